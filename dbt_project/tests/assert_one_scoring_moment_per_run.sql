-- The scoring requests of a run share one moment (or none): ml_scoring_features scores
-- the whole run as of it. Returns a row when they do not.
with

scoring_requests as (
    select * from {{ ref('stg_scoring__scoring_requests') }}
)

select count(distinct requested_at) as moments
from scoring_requests
having count(distinct requested_at) > 1
