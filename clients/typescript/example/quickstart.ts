/**
 * The first hour with the taskapp API, typed end to end:
 *
 *   npm ci && npm run build
 *   node dist/example/quickstart.js http://localhost:8000
 *
 * Sign up, log in, list, create (with an Idempotency-Key), change (with the ETag as If-Match),
 * refresh from one place, and (where EventSource exists: browsers, Node 22+) live events.
 */
import { createTaskapp, etagOf, liveEvents } from "../src/index.js";

const baseUrl = process.argv[2] ?? "http://localhost:8000";
const email = `ada+${Date.now()}@example.com`;
const password = "correct horse battery staple";

const taskapp = createTaskapp({
  baseUrl,
  // Browsers: share one refresh across tabs, e.g.
  // exclusive: (refresh) => navigator.locks.request("taskapp-refresh", refresh),
  onSignedOut: (error) => console.log(`signed out (${error.code}): show the login page`),
});
const { api } = taskapp;

// 1. Sign up. Every answer is an envelope; `data ?? error` is a union that `success` narrows.
{
  const { data, error } = await api.POST("/api/v1/auth/register", { body: { email, password } });
  const body = data ?? error;
  if (body?.success) console.log(`registered ${body.data.email}`);
  else if (body?.error.code !== "EMAIL_ALREADY_REGISTERED") throw new Error(body?.error.message);
}

// 2. Log in: the client keeps the tokens and sends the access token from now on.
const failed = await taskapp.login(email, password);
if (failed !== null) throw new Error(`login: ${failed.code} ${failed.message}`);

// 3. Create. The Idempotency-Key makes a retry (a timeout, a flaky network) safe: the second
//    request with the same key gets the first answer, not a second task.
const key = crypto.randomUUID();
const created = await api.POST("/api/v1/tasks", {
  params: { header: { "Idempotency-Key": key } },
  body: { title: "Buy oat milk", priority: "high", labels: ["errands"] },
});
if (created.data === undefined) throw new Error(created.error?.error.message);
const task = created.data.data;
let etag = etagOf(created.response); // `"1"`: the version, for If-Match
console.log(`created ${task.title} (${task.id}), popup ${created.data.popup}, ETag ${etag}`);

// 4. Change it, but only if nobody else did since we read it (If-Match: the ETag).
const updated = await api.PATCH("/api/v1/tasks/{task_id}", {
  params: { path: { task_id: task.id }, header: { "If-Match": etag } },
  body: { title: "Buy oat milk (2 cartons)" },
});
if (updated.error !== undefined) {
  if (updated.error.error.code === "VERSION_CONFLICT") console.log("changed elsewhere: reload, then retry");
  else throw new Error(updated.error.error.message);
} else {
  etag = etagOf(updated.response);
  console.log(`renamed to ${updated.data.data.title}, now version ${updated.data.data.version} (ETag ${etag})`);
}

// 5. List: query parameters are typed too (status, q, label, sort, page, limit, ...).
const listed = await api.GET("/api/v1/tasks", { params: { query: { status: "open", limit: 20 } } });
const page = listed.data ?? listed.error;
if (page?.success) console.log(`${page.data.total} open task(s):`, page.data.items.map((t) => t.title));

// 6. Refresh from ONE place: concurrent callers share a single in-flight refresh, so the
//    single-use refresh token is used once (using it twice revokes the session: 0003).
const [first, second] = await Promise.all([taskapp.refresh(), taskapp.refresh()]);
console.log(`one refresh for two callers: ${first === second}`);

// 7. Live events: EventSource cannot send a header, so the client takes a single-use ticket.
//    Start after the last cursor you have (here: the create's X-Sync-Cursor), so changes made
//    before the stream opened are not missed; a dropped stream resumes by itself.
if (typeof EventSource !== "undefined") {
  const cursor = created.response.headers.get("X-Sync-Cursor") ?? undefined;
  const events = liveEvents(taskapp, baseUrl, (type, data) => console.log("event", type, data), { cursor });
  await api.PATCH("/api/v1/tasks/{task_id}/complete", { params: { path: { task_id: task.id } } });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  events.close();
} else {
  console.log("no EventSource here (Node 20): live events skipped");
}

await taskapp.logout();
