-- Each segment's shortlist: every film among the $candidates_per_genre best of its genre
-- for at least one probe user of the segment. A forest ranks a genre's films differently
-- for each user (film features interact with the user's), so an average over the probes
-- would miss many users' favourites; the union of each probe's own top films does not.
create or replace temp table shortlist as
select distinct
    segment,
    movie_id
from (
    select
        probe_users.segment,
        probe.movie_id,
        row_number() over (
            partition by probe.user_id, genres.genre
            order by probe.score desc, probe.movie_id asc
        ) as pick
    from scores as probe
    inner join core.dim_users as probe_users on probe.user_id = probe_users.user_id
    inner join intermediate.int_movie_genres_unnested as genres
        on probe.movie_id = genres.movie_id
) as picked
where pick <= $candidates_per_genre
