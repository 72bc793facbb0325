/**
 * The generated client against a real server (tests/api/test_typescript_client.py starts one):
 *   node dist/test/smoke.js http://127.0.0.1:PORT
 * Every step asserts; the last line printed is a JSON summary the Python test reads.
 */
import assert from "node:assert/strict";
import {
  RefreshUnavailable,
  SignedOut,
  createTaskapp,
  etagOf,
  memoryTokenStore,
} from "../src/index.js";

const baseUrl = process.argv[2];
assert.ok(baseUrl, "usage: node dist/test/smoke.js BASE_URL");

let refreshes = 0;
const counting: typeof fetch = (input, init) => {
  const url = input instanceof Request ? input.url : String(input);
  if (url.endsWith("/api/v1/auth/refresh")) refreshes += 1;
  return fetch(input, init);
};
const tokens = memoryTokenStore();
const taskapp = createTaskapp({ baseUrl, fetch: counting, tokens });
const { api } = taskapp;
const email = `smoke-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
const password = "correct horse battery staple";

// register, then the same email again: narrowing on `success`
const registered = await api.POST("/api/v1/auth/register", { body: { email, password } });
assert.equal(registered.response.status, 201);
assert.equal(registered.data?.success, true);
const again = await api.POST("/api/v1/auth/register", { body: { email, password } });
const body = again.data ?? again.error;
assert.ok(body !== undefined && !body.success);
assert.equal(body.error.code, "EMAIL_ALREADY_REGISTERED");

// login
assert.equal(await taskapp.login(email, password), null);
const me = await api.GET("/api/v1/auth/me");
assert.equal(me.data?.data.email, email);

// create with Idempotency-Key, twice: one task, the second answer replayed
const key = crypto.randomUUID();
const create = () =>
  api.POST("/api/v1/tasks", {
    params: { header: { "Idempotency-Key": key } },
    body: { title: "Buy oat milk", priority: "high", labels: ["errands"] },
  });
const created = await create();
assert.equal(created.response.status, 201);
assert.equal(created.data?.popup, "TASK_CREATED");
const task = created.data.data;
const etag = etagOf(created.response);
assert.equal(etag, '"1"');
const replayed = await create();
assert.equal(replayed.response.headers.get("Idempotent-Replayed"), "true");
assert.equal(replayed.data?.data.id, task.id);

// update with If-Match from the ETag; the stale ETag is then a 412 VERSION_CONFLICT
const updated = await api.PATCH("/api/v1/tasks/{task_id}", {
  params: { path: { task_id: task.id }, header: { "If-Match": etag } },
  body: { title: "Buy oat milk (2 cartons)" },
});
assert.equal(updated.response.status, 200);
assert.equal(updated.data?.data.version, 2);
assert.equal(etagOf(updated.response), '"2"');
const stale = await api.PATCH("/api/v1/tasks/{task_id}", {
  params: { path: { task_id: task.id }, header: { "If-Match": etag } },
  body: { title: "lost update" },
});
assert.equal(stale.response.status, 412);
assert.equal(stale.error?.error.code, "VERSION_CONFLICT");

// list
const listed = await api.GET("/api/v1/tasks", { params: { query: { status: "open", limit: 20 } } });
assert.equal(listed.response.status, 200);
assert.deepEqual(
  listed.data?.data.items.map((t) => t.title),
  ["Buy oat milk (2 cartons)"],
);
assert.equal(listed.data?.data.total, 1);

// an expired access token: two concurrent calls meet 401, share ONE refresh, both succeed,
// and the session survives (a second use of the refresh token would have revoked it)
const current = tokens.get();
assert.ok(current !== null);
tokens.set({ ...current, access_token: "expired.not-a.token" });
const [one, two] = await Promise.all([
  api.GET("/api/v1/tasks/{task_id}", { params: { path: { task_id: task.id } } }),
  api.POST("/api/v1/tasks", { body: { title: "after the refresh" } }),
]);
assert.equal(one.response.status, 200);
assert.equal(two.response.status, 201);
assert.equal(refreshes, 1);
assert.notEqual(tokens.get()?.refresh_token, current.refresh_token);
const [a, b] = await Promise.all([taskapp.refresh(), taskapp.refresh()]);
assert.equal(a, b);
assert.equal(refreshes, 2);
const still = await api.GET("/api/v1/auth/me");
assert.equal(still.response.status, 200);

// a ticket for the live events (EventSource itself is a browser API)
const ticket = await api.POST("/api/v1/events/ticket");
assert.ok((ticket.data?.data.ticket.length ?? 0) > 0);

// a refresh that cannot be made just now (no network, a 503) keeps the session; only a
// refused one (401) ends it
const kept = tokens.get();
assert.ok(kept !== null);
for (const outage of [
  () => Promise.reject(new TypeError("fetch failed")),
  () => Promise.resolve(new Response(JSON.stringify({ success: false }), { status: 503 })),
]) {
  const failing: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    return url.endsWith("/api/v1/auth/refresh") ? outage() : fetch(input, init);
  };
  const down = createTaskapp({ baseUrl, fetch: failing, tokens: memoryTokenStore({ ...kept }) });
  await assert.rejects(down.refresh(), RefreshUnavailable);
  assert.deepEqual(down.tokens.get(), kept);
}
let signedOut = 0;
const refused = createTaskapp({
  baseUrl,
  tokens: memoryTokenStore({ ...kept, refresh_token: "not-a-refresh-token" }),
  onSignedOut: () => (signedOut += 1),
});
await assert.rejects(refused.refresh(), SignedOut);
assert.equal(refused.tokens.get(), null);
assert.equal(signedOut, 1);

await taskapp.logout();
assert.equal(tokens.get(), null);

console.log(JSON.stringify({ ok: true, task: task.id, refreshes }));
