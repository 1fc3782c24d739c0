{#- The window grid search of every training run: holdout RMSE and R² per (history_months,
    pred_months) pair and candidate model, from the run's champion card. -#}
with champions as (

    select model_id, metric_name, trained_at, grid_json
    from {{ ref('mart_clv__model_cards') }}
    where is_champion

),

points as (

    select
        model_id as champion_model_id,
        metric_name,
        trained_at,
        {{ vm_json_records('grid_json', [('history_months', 'INTEGER'), ('pred_months', 'INTEGER'),
            ('cutoff', 'DATE'), ('model_type', 'VARCHAR'), ('rmse', 'DOUBLE'), ('r2', 'DOUBLE'),
            ('customers', 'BIGINT'), ('is_best', 'BOOLEAN'), ('reason', 'VARCHAR')]) }}
    from champions

)

select * from points
