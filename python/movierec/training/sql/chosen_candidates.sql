-- Temp table chosen_candidates: each candidate retrieval proposed at a training moment
-- (scoring.retrieved_candidates), labelled chosen when the user went on to view it at or
-- after that moment (and before $until, when set).
create or replace temp table chosen_candidates as
select
    candidates.user_id,
    candidates.movie_id,
    candidates.requested_at,
    cast(count(later.movie_id) > 0 as tinyint) as chosen
from scoring.retrieved_candidates as candidates
left join core.fct_interactions as later
    on
        candidates.user_id = later.user_id
        and candidates.movie_id = later.movie_id
        and candidates.requested_at <= later.interacted_at
        and (cast($until as timestamp) is null or later.interacted_at < cast($until as timestamp))
group by
    candidates.user_id,
    candidates.movie_id,
    candidates.requested_at
