-- Carry into run $run_id, unchanged, run $from_run's list of every user it did not
-- rescore ($rescored), keeping when each list was scored; $generated_at: the run's.
insert into ml_outputs.recommendations (
    run_id, user_id, rank, movie_id, score, model_id, generated_at, scored_at
)
select
    cast($run_id as varchar) as carried_run_id,
    carried.user_id,
    carried.rank,
    carried.movie_id,
    carried.score,
    carried.model_id,
    cast($generated_at as timestamp) as carried_at,
    coalesce(carried.scored_at, carried.generated_at) as list_scored_at
from ml_outputs.recommendations as carried
where
    carried.run_id = cast($from_run as varchar)
    and carried.user_id in (select known.user_id from core.dim_users as known)
    and carried.user_id not in (select unnest(cast($rescored as bigint[])) as user_id)
