"""The seeding SQL: set-based INSERT ... SELECT FROM generate_series, one chunk at a time.

$1 is the user, rows $2..$3 of $4 are inserted. The counter triggers stay on, so whatever
the counters' schema, they stay exact.
"""

# Tasks created over the past year, row 1 the oldest; every second one completed an hour
# after its creation (never in the future). The check constraints hold by design.
INSERT_TASKS = """
INSERT INTO tasks (id, user_id, title, description, is_completed, completed_at,
                   created_at, updated_at, version, position, labels, label_keys,
                   priority, due_date, due_at)
SELECT gen_random_uuid(), $1::uuid, 'Benchmark task ' || g,
       CASE WHEN g % 3 = 0 THEN 'Seeded description for task ' || g END,
       g % 2 = 0,
       CASE WHEN g % 2 = 0 THEN LEAST(now(), t.created + interval '1 hour') END,
       t.created, t.created, 1 + g % 3,
       'i' || lpad(g::text, 9, '0'),  -- manual order = creation order (valid keys)
       l.labels, l.labels,  -- 10% "focus" (with "work"), 40% "work" only, half none
       (ARRAY['none', 'low', 'medium', 'high'])[1 + g % 4],
       CASE WHEN g % 3 = 0 THEN current_date + (g % 61 - 30) END,
       CASE WHEN g % 3 = 1 THEN now() + (g % 1001 - 500) * interval '1 hour' END
FROM generate_series($2::int, $3::int) AS g,
     LATERAL (SELECT CASE WHEN g % 10 = 0 THEN ARRAY['focus', 'work']
                          WHEN g % 10 < 5 THEN ARRAY['work']
                          ELSE ARRAY[]::text[] END AS labels) AS l,
     LATERAL (SELECT now() - interval '365 days' * ($4::int - g) / $4::int AS created) AS t
"""

# One entry per second up to now, over 1,000 task ids; every fifth one an UPDATED with changes.
INSERT_HISTORY = """
INSERT INTO task_history (id, user_id, task_id, task_title, action_type, description,
                          changes, created_at)
SELECT gen_random_uuid(), $1::uuid, md5($1::uuid::text || g % 1000)::uuid,
       'Benchmark task ' || g % 1000,
       (ARRAY['CREATED', 'UPDATED', 'COMPLETED', 'REOPENED', 'DELETED'])[1 + g % 5],
       'Seeded history entry ' || g,
       CASE WHEN g % 5 = 1
            THEN jsonb_build_object('title', jsonb_build_object('from', 'old', 'to', 'new'))
       END,
       now() - ($4::int - g) * interval '1 second'
FROM generate_series($2::int, $3::int) AS g
"""

# A crowd of users sharing one real Argon2 hash (copied from a registered account).
INSERT_CROWD_USERS = """
INSERT INTO users (id, email, email_key, display_name, password_hash, created_at, updated_at)
SELECT gen_random_uuid(), 'bench-crowd-' || g || '-' || $2::text || '@example.com',
       lower('bench-crowd-' || g || '-' || $2::text || '@example.com'), NULL,
       u.password_hash, now(), now()
FROM users AS u, generate_series(1, $3::int) AS g
WHERE u.id = $1::uuid
RETURNING id, email
"""

# A few open tasks each.
INSERT_CROWD_TASKS = """
INSERT INTO tasks (id, user_id, title, description, is_completed, completed_at,
                   created_at, updated_at, version)
SELECT gen_random_uuid(), u, 'Crowd task ' || g, NULL, false, NULL,
       now() - g * interval '1 minute', now() - g * interval '1 minute', 1
FROM unnest($1::uuid[]) AS u, generate_series(1, $2::int) AS g
RETURNING user_id, id
"""

# The sync user's tasks as the log knows them: INSERT_TASKS's rows, each with its CREATED
# history entry, and a COMPLETED one for those completed (`seq` from the history trigger,
# so the log is the one the API would have written, and it NOTIFYs as the API's does).
INSERT_SYNC_TASKS = (
    "WITH task AS ("  # noqa: S608 - constant SQL, no input
    + INSERT_TASKS
    + """RETURNING id, user_id, title, is_completed, created_at, completed_at
), created AS (
    INSERT INTO task_history (id, user_id, task_id, task_title, action_type, description,
                              created_at)
    SELECT gen_random_uuid(), user_id, id, title, 'CREATED',
           'Created task ''' || title || '''', created_at
    FROM task
)
INSERT INTO task_history (id, user_id, task_id, task_title, action_type, description,
                          created_at)
SELECT gen_random_uuid(), user_id, id, title, 'COMPLETED',
       'Completed task ''' || title || '''', completed_at
FROM task WHERE is_completed
"""
)
