{#- Recurring contracts per customer of a contractual CLV metric: a holding with a recurring cost
    and period is one contract of `recurring_period` months paying `recurring_cost` a month. The
    customer's contracts are her renewal history for the shifted-beta-geometric model: `contracts`
    = terms paid, and she has churned when none of them runs past the observation end (else she is
    right-censored). Active contracts give the monthly payment and the months left in the term. -#}
with purchases as (

    select * from {{ ref('int_clv__purchases') }}

),

contracts as (

    select
        metric_name,
        customer_key,
        purchase_date,
        observation_end,
        recurring_cost,
        recurring_period,
        {{ vm_add_months('purchase_date', 'cast(round(recurring_period) as integer)') }} as contract_end
    from purchases
    where recurring_cost > 0
        and round(recurring_period) >= 1

)

select
    metric_name,
    customer_key,
    count(*) as contracts,
    min(purchase_date) as first_contract_date,
    max(contract_end) as last_contract_end,
    max(contract_end) > any_value(observation_end) as is_active,
    coalesce(sum(recurring_cost) filter (where contract_end > observation_end), 0) as active_monthly_cost,
    max_by(round(recurring_period), contract_end) as latest_term_months,
    greatest(
        {{ vm_days_between('any_value(observation_end)', 'max(contract_end)') }}, 0
    ) / (cast(365.25 as double) / 12) as remaining_term_months
from contracts
group by metric_name, customer_key
