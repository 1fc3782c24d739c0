{#- Every file load with its rows read (from the load log) and rows kept after the global filter
    and deduplication: what a build took in and what survived. -#}
with load_log as (

    select * from {{ source('landing', 'load_log') }}

),

ih_kept as (

    select _file_seq, count(*) as rows_kept
    from {{ ref('int_ih__interactions') }}
    group by _file_seq

),

holdings_kept as (

    select _file_seq, count(*) as rows_kept
    from {{ ref('int_holdings__holdings') }}
    group by _file_seq

)

select
    load_log.file_seq,
    load_log.load_id,
    load_log.source,
    load_log.file_path,
    load_log.file_group,
    load_log.file_hash,
    load_log.size_bytes,
    load_log.rows_read,
    coalesce(ih_kept.rows_kept, holdings_kept.rows_kept, 0) as rows_kept,
    load_log.status,
    load_log.loaded_at,
    load_log.file_seq = max(load_log.file_seq) over (partition by load_log.source, load_log.file_path) as is_current
from load_log
left join ih_kept on load_log.source = 'ih' and load_log.file_seq = ih_kept._file_seq
left join holdings_kept on load_log.source = 'holdings' and load_log.file_seq = holdings_kept._file_seq
