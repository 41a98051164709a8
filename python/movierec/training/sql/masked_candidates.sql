-- Temp table chosen_candidates, masked-history training: each candidate retrieval proposed
-- in the masked world (scoring.retrieved_candidates), labelled chosen when it is one of the
-- user's hidden films (intermediate.int_masked_viewings) first viewed before $until.
create or replace temp table chosen_candidates as
select
    candidates.user_id,
    candidates.movie_id,
    candidates.requested_at,
    cast(hidden.movie_id is not null as tinyint) as chosen
from scoring.retrieved_candidates as candidates
left join intermediate.int_masked_viewings as hidden
    on
        candidates.user_id = hidden.user_id
        and candidates.movie_id = hidden.movie_id
        and (
            cast($until as timestamp) is null
            or hidden.first_viewed_at < cast($until as timestamp)
        )
