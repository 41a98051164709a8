-- Carry into run $run_id, unchanged, run $from_run's list of every user it did not
-- rescore ($rescored), keeping when each list was scored.
insert into ml_outputs.recommendations (
    run_id, user_id, rank, movie_id, score, model_id, generated_at, scored_at
)
select
    $run_id as run_id,
    previous.user_id,
    previous.rank,
    previous.movie_id,
    previous.score,
    previous.model_id,
    $at as generated_at,
    coalesce(previous.scored_at, previous.generated_at) as scored_at
from ml_outputs.recommendations as previous
where
    previous.run_id = $from_run
    and previous.user_id in (select users.user_id from core.dim_users as users)
    and previous.user_id not in (select unnest($rescored::bigint []))
