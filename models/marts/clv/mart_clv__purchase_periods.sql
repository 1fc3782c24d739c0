{#- One row per CLV metric, group, customer and purchase day (a purchase period): what the
    prediction engine and `report clv` read. -#}
select * from {{ ref('int_clv__purchase_periods') }}
