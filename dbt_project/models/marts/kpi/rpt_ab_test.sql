-- Champion against challenger on realised click-through (docs/kpi.md): one row while the
-- latest run is served by two models, none otherwise. Each arm's list views are those
-- of the lists its model ranked in the runs of this test (same champion, same
-- challenger); 95 % Wilson intervals per arm, a normal interval for the difference, and
-- the decision `movierec promote` follows.

{%- set z = 1.96 %}

with

runs as (
    select * from {{ ref('stg_ml_outputs__recommendation_runs') }}
),

interactions as (
    select * from {{ ref('fct_interactions') }}
),

latest as (
    select
        run_id,
        model_id as champion_model_id,
        challenger_model_id,
        challenger_share
    from runs
    where
        challenger_model_id is not null
        and generated_at = (select max(latest_runs.generated_at) from runs as latest_runs)
),

test_runs as (
    select runs.run_id
    from runs
    inner join latest
        on
            runs.model_id = latest.champion_model_id
            and runs.challenger_model_id = latest.challenger_model_id
),

views as (
    select
        model_id,
        count(*) as list_views,
        sum(case when viewing_source = 'recommendation' then 1 else 0 end) as clicks
    from interactions
    where run_id in (select test_runs.run_id from test_runs)
    group by model_id
),

arms as (
    select
        latest.run_id,
        latest.champion_model_id,
        latest.challenger_model_id,
        latest.challenger_share,
        coalesce(champion.list_views, 0) as champion_list_views,
        coalesce(champion.clicks, 0) as champion_clicks,
        coalesce(challenger.list_views, 0) as challenger_list_views,
        coalesce(challenger.clicks, 0) as challenger_clicks
    from latest
    left join views as champion
        on latest.champion_model_id = champion.model_id
    left join views as challenger
        on latest.challenger_model_id = challenger.model_id
),

rates as (
    select
        *,
        case
            when champion_list_views > 0
                then cast(champion_clicks as {{ type_double() }}) / champion_list_views
        end as champion_click_through,
        case
            when challenger_list_views > 0
                then cast(challenger_clicks as {{ type_double() }}) / challenger_list_views
        end as challenger_click_through
    from arms
),

intervals as (
    select
        *,
        {%- for arm in ['champion', 'challenger'] %}
        {%- set p = arm ~ '_click_through' %}
        {%- set n = arm ~ '_list_views' %}
        ({{ p }} + {{ z * z }} / (2.0 * {{ n }}) - {{ z }} * sqrt(
            {{ p }} * (1 - {{ p }}) / {{ n }} + {{ z * z }} / (4.0 * {{ n }} * {{ n }})
        )) / (1 + {{ z * z }} / {{ n }}) as {{ arm }}_ci_low,
        ({{ p }} + {{ z * z }} / (2.0 * {{ n }}) + {{ z }} * sqrt(
            {{ p }} * (1 - {{ p }}) / {{ n }} + {{ z * z }} / (4.0 * {{ n }} * {{ n }})
        )) / (1 + {{ z * z }} / {{ n }}) as {{ arm }}_ci_high,
        {%- endfor %}
        challenger_click_through - champion_click_through as difference,
        sqrt(
            challenger_click_through * (1 - challenger_click_through) / challenger_list_views
            + champion_click_through * (1 - champion_click_through) / champion_list_views
        ) as difference_se
    from rates
),

final as (
    select
        -- keys
        run_id,
        champion_model_id,
        challenger_model_id,

        -- measures
        challenger_share,
        champion_list_views,
        champion_clicks,
        champion_click_through,
        cast(champion_ci_low as {{ type_double() }}) as champion_ci_low,
        cast(champion_ci_high as {{ type_double() }}) as champion_ci_high,
        challenger_list_views,
        challenger_clicks,
        challenger_click_through,
        cast(challenger_ci_low as {{ type_double() }}) as challenger_ci_low,
        cast(challenger_ci_high as {{ type_double() }}) as challenger_ci_high,
        difference,
        cast(difference - {{ z }} * difference_se as {{ type_double() }}) as difference_ci_low,
        cast(difference + {{ z }} * difference_se as {{ type_double() }}) as difference_ci_high,
        {{ var('ab_min_list_views') }} as min_list_views,

        -- the rule `movierec promote` follows
        case
            when
                least(champion_list_views, challenger_list_views)
                < {{ var('ab_min_list_views') }}
                then 'undecided: too few list views'
            when difference - {{ z }} * difference_se > 0 then 'challenger wins'
            when difference + {{ z }} * difference_se < 0 then 'champion holds'
            else 'undecided: no significant difference'
        end as decision
    from intervals
)

select * from final
