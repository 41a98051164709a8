with

movie_genres as (
    select * from {{ ref('int_movie_genres_unnested') }}
),

-- one-hot over the `genres` var; a film with several genres has several flags set,
-- a genre outside the vocabulary sets none
final as (
    select
        movie_id,
        {% for genre in var('genres') -%}
        {%- set quoted = "'" ~ genre | replace("'", "''") ~ "'" %}
        max({{ as_flag('genre = ' ~ quoted) }}) as is_genre_{{ genre_slug(genre) }}
        {%- if not loop.last %},{% endif %}
        {% endfor %}
    from movie_genres
    group by movie_id
)

select * from final
