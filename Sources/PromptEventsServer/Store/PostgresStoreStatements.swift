#if os(Linux)
/// The SQL of ``PostgresDeliveryStore``, with the schema's name in place.
///
/// Every statement is prepared once per connection; parameters are numbered in the comment
/// above each. Arrays (`unnest`) carry a whole group in one statement.
struct PostgresStoreStatements {
    let insertBatch: String
    let reserveIDs: String
    let keyHolders: String
    let upsertProgress: String
    let finish: String
    let requeue: String
    let select: String
    let selectProgress: String
    let retention: String
    let forgetExpiredKeys: String
    let purge: String
    let claim: String
    let renewLeases: String
    let releaseLeases: String
    let progressOf: String

    init(_ s: String) {
        let columns = """
            id, kind, received_at, method, target, headers, body, state, dead_letter_reason, finished_at
            """
        let insertColumns = """
            INSERT INTO \(s).deliveries (id, kind, received_at, method, target, headers, body, state,
                dead_letter_reason, finished_at, deduplication_key, key_expires_at, key_counts_when_done,
                lease_owner, lease_expires_at)
            """
        // One array per column, zipped by unnest; $15 now, $16 this instance, $17 the lease in
        // seconds (on the server's clock, shared by all instances). Returns the rows not stored, each
        // with the delivery holding its key (NULL when that one committed while this waited).
        insertBatch = """
            WITH input AS (
                SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::timestamptz[], $4::timestamptz[], $5::text[],
                    $6::text[], $7::text[], $8::text[], $9::bytea[], $10::text[], $11::text[], $12::timestamptz[],
                    $13::boolean[], $14::boolean[])
                AS t(id, key, received_at, key_expires_at, kind, method, target, headers, body, state, reason,
                    finished_at, counts_when_done, claims)
            ), claimed AS (
                INSERT INTO \(s).deduplication_keys AS k (key, delivery_id, expires_at)
                SELECT key, id, key_expires_at FROM input WHERE claims
                ON CONFLICT (key) DO UPDATE SET delivery_id = excluded.delivery_id, expires_at = excluded.expires_at
                    WHERE k.expires_at <= $15
                RETURNING delivery_id
            ), stored AS (
                \(insertColumns)
                SELECT id, kind, received_at, method, target, headers, body, state, reason, finished_at, key,
                    key_expires_at, counts_when_done, $16, clock_timestamp() + make_interval(secs => $17)
                FROM input
                WHERE CASE WHEN claims THEN id IN (SELECT delivery_id FROM claimed)
                    ELSE key IS NULL OR NOT EXISTS (
                        SELECT 1 FROM \(s).deduplication_keys k WHERE k.key = input.key AND k.expires_at > $15
                    ) END
                RETURNING id
            )
            SELECT input.id,
                (SELECT k.delivery_id FROM \(s).deduplication_keys k WHERE k.key = input.key AND k.expires_at > $15)
            FROM input WHERE input.id NOT IN (SELECT id FROM stored)
            """
        reserveIDs = "SELECT nextval('\(s).delivery_ids')"
        keyHolders = "SELECT key, delivery_id FROM \(s).deduplication_keys WHERE key = ANY($1)"
        // One array per column; one row per (delivery, handler), of stored deliveries only.
        upsertProgress = """
            INSERT INTO \(s).handler_progress (delivery_id, handler, status, attempts, last_error, updated_at)
            SELECT u.* FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[], $5::text[],
                $6::timestamptz[]) AS u(delivery_id, handler, status, attempts, last_error, updated_at)
            WHERE EXISTS (SELECT 1 FROM \(s).deliveries d WHERE d.id = u.delivery_id)
            ON CONFLICT (delivery_id, handler) DO UPDATE SET status = excluded.status,
                attempts = excluded.attempts, last_error = excluded.last_error, updated_at = excluded.updated_at
            """
        // $1 ids, $2 states, $3 finish times, $4 now. A done delivery's progress is not kept
        // (every handler succeeded); after-handlers keys count from now (one per key).
        finish = """
            WITH outcome AS (
                SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS u(id, state, finished_at)
            ), finished AS (
                UPDATE \(s).deliveries d SET state = outcome.state, finished_at = outcome.finished_at
                FROM outcome WHERE d.id = outcome.id
                RETURNING d.id, d.state, d.deduplication_key, d.key_expires_at, d.key_counts_when_done
            ), cleared AS (
                DELETE FROM \(s).handler_progress WHERE delivery_id IN (SELECT id FROM finished WHERE state = 'done')
            )
            INSERT INTO \(s).deduplication_keys AS k (key, delivery_id, expires_at)
            SELECT DISTINCT ON (deduplication_key) deduplication_key, id, key_expires_at FROM finished
            WHERE state = 'done' AND key_counts_when_done AND key_expires_at > $4
            ORDER BY deduplication_key, id
            ON CONFLICT (key) DO UPDATE SET delivery_id = excluded.delivery_id, expires_at = excluded.expires_at
                WHERE k.expires_at <= $4
            """
        requeue = """
            WITH requeued AS (
                UPDATE \(s).deliveries SET state = 'pending', finished_at = NULL, lease_owner = $2,
                    lease_expires_at = clock_timestamp() + make_interval(secs => $3)
                WHERE id = ANY($1) AND state <> 'pending'
                RETURNING \(columns)
            ), cleared AS (
                DELETE FROM \(s).handler_progress WHERE delivery_id IN (SELECT id FROM requeued)
            )
            SELECT \(columns) FROM requeued ORDER BY id
            """
        // $1, $2 received range; $3 kinds; $4 states; $5 ids; $6 limit (NULL: all).
        let matching = """
            FROM \(s).deliveries
            WHERE ($1::timestamptz IS NULL OR received_at >= $1) AND ($2::timestamptz IS NULL OR received_at < $2)
                AND ($3::text[] IS NULL OR kind = ANY($3)) AND ($4::text[] IS NULL OR state = ANY($4))
                AND ($5::bigint[] IS NULL OR id = ANY($5))
            ORDER BY id LIMIT $6
            """
        select = "SELECT \(columns) \(matching)"
        selectProgress = """
            SELECT delivery_id, handler, status, attempts, last_error, updated_at
            FROM \(s).handler_progress
            WHERE delivery_id IN (SELECT id \(matching))
            ORDER BY delivery_id, handler
            """
        // $1 done before, $2 dead-lettered before, $3 received before (keys still in their window stay).
        retention = """
            WITH gone AS (
                DELETE FROM \(s).deliveries
                WHERE ((state = 'done' AND finished_at <= $1) OR (state = 'deadLettered' AND finished_at <= $2))
                    AND received_at <= $3
                RETURNING id, deduplication_key, octet_length(body) + octet_length(headers) AS size
            ), forgotten AS (
                DELETE FROM \(s).deduplication_keys k USING gone
                WHERE k.key = gone.deduplication_key AND k.delivery_id = gone.id
            )
            SELECT count(*), coalesce(sum(size), 0)::bigint FROM gone
            """
        forgetExpiredKeys = "DELETE FROM \(s).deduplication_keys WHERE expires_at <= $1"
        // $1 this instance, $2 the lease in seconds, $3 whether to include its own, $4 the ids
        // it holds (never claimed again).
        claim = """
            WITH claimed AS (
                UPDATE \(s).deliveries SET lease_owner = $1,
                    lease_expires_at = clock_timestamp() + make_interval(secs => $2)
                WHERE id IN (
                    SELECT id FROM \(s).deliveries
                    WHERE state = 'pending' AND (
                        ($3 AND lease_owner = $1)
                        OR (NOT (id = ANY($4)) AND (lease_expires_at IS NULL OR lease_expires_at <= clock_timestamp()))
                    )
                    ORDER BY id
                    FOR UPDATE SKIP LOCKED
                )
                RETURNING \(columns)
            )
            SELECT \(columns) FROM claimed ORDER BY id
            """
        // $1 this instance, $2 the lease in seconds, $3 the ids it holds.
        renewLeases = """
            UPDATE \(s).deliveries SET lease_owner = $1,
                lease_expires_at = clock_timestamp() + make_interval(secs => $2)
            WHERE id = ANY($3) AND state = 'pending'
            """
        releaseLeases = """
            UPDATE \(s).deliveries SET lease_expires_at = clock_timestamp()
            WHERE lease_owner = $1 AND state = 'pending'
            """
        progressOf = """
            SELECT delivery_id, handler, status, attempts, last_error, updated_at
            FROM \(s).handler_progress WHERE delivery_id = ANY($1) ORDER BY delivery_id, handler
            """
        purge = """
            WITH gone AS (
                DELETE FROM \(s).deliveries WHERE state = ANY($1) AND finished_at < $2 RETURNING id
            )
            SELECT count(*) FROM gone
            """
    }
}
#endif
