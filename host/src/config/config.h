// OutboxdConfig: every knob of the outboxd process, read from one JSON file (docs/configuration.md
// documents each key). ParseConfig turns JSON text into a fully validated OutboxdConfig: every
// field left out of the file keeps the default written below, and the first problem found (unknown
// key, wrong type, value out of range, malformed JSON) is returned as ONE InvalidArgument whose
// message starts with the key path ("dispatch.batch_size: ...", "handlers[1].plugin: required") or,
// for malformed JSON, with "line L, column C". Nothing here touches the file system except
// LoadConfigFile, and nothing checks that plugins exist or declare topics: that happens at wiring.
//
// Plugin `config` objects are kept as JSON text and may hold secrets (passwords, tokens): log a
// config only through DescribeConfig, which never prints them.
//
// THREADING: plain data and pure functions; thread-compatible.
#ifndef OUTBOXD_CONFIG_CONFIG_H_
#define OUTBOXD_CONFIG_CONFIG_H_

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace outboxd {

// The plugin folder used when the file has no "plugin_dir": <CMAKE_INSTALL_FULL_LIBDIR>/outboxd/plugins
// of the build (/usr/lib/outboxd/plugins in the Debian package), passed by CMake as
// OBX_DEFAULT_PLUGIN_DIR (cmake/OutboxdInstall.cmake). Absolute.
extern const char kDefaultPluginDir[];

// Values of DispatchConfig::strategy.
inline constexpr char kStrategyFair[] = "fair";
inline constexpr char kStrategyRoundRobin[] = "round-robin";
inline constexpr char kStrategyDrainFirst[] = "drain-first";

// Values of DispatchConfig::unknown_topic.
inline constexpr char kUnknownTopicFail[] = "fail";
inline constexpr char kUnknownTopicPark[] = "park";

// The "discovery" object: which tenant databases exist.
struct DiscoveryConfig {
  // Name of the loaded discovery plugin to ask. Required.
  std::string plugin;

  // The plugin's own settings, as compact JSON object text. Default "{}". May hold secrets.
  std::string config_json = "{}";

  // How often discovery runs. Default 5m, at least 100ms. Shorter notices new and removed tenants
  // sooner; each run costs one plugin call (e.g. one query on a global database).
  std::chrono::milliseconds refresh_interval{std::chrono::minutes(5)};

  // Default false: an empty discovery result while stores exist is ignored with a warning (a broken
  // global database must not stop every tenant). True: an empty result removes every store.
  bool allow_empty = false;

  // Default 0 (no caching). When > 0, a discovery result younger than this is reused instead of
  // calling the plugin again.
  std::chrono::milliseconds cache_ttl{0};
};

// The "dispatch" object: how messages are claimed and delivered.
struct DispatchConfig {
  // In which order READY tenants are visited (a tenant is ready when its poll is due, on a NOTIFY,
  // when new, after a full claim; see dispatch/tenant_schedule.h). Every visit claims one batch.
  // kStrategyFair (default): oldest-ready first; a tenant whose claim came back full queues again
  // behind every tenant that was ready before it (deficit round-robin, quantum one batch), so a
  // backlogged tenant delays another tenant's message by at most one batch per worker.
  // kStrategyRoundRobin: ready tenants in identifier order, cyclically, one batch each, busy or
  // not. kStrategyDrainFirst: a tenant whose claim returned rows is visited again before any other
  // until a claim comes back empty (highest throughput per tenant; others wait for its backlog).
  std::string strategy = kStrategyFair;

  // Rows claimed per claim statement, 1..10000. Default 50. Larger means fewer round trips but
  // longer claim statements and more messages held (and redelivered after a crash) at once.
  int batch_size = 50;

  // First idle delay of a tenant, >= 1ms. Default 250ms. A tenant whose claim found rows (but not a
  // full batch) is polled again after this (jittered, see max_poll_interval); an empty claim
  // doubles the tenant's own delay up to max_poll_interval. Idle polls that fall due within
  // poll_interval / 10 (at most 20 ms) of each other are made on one worker wake-up, so a poll may
  // be up to that much late.
  std::chrono::milliseconds poll_interval{250};

  // Per-tenant idle back-off ceiling: each tenant's delay grows up to this while it stays empty and
  // snaps back to poll_interval when it has work. Each wait is the delay x U[0.5, 1] so tenants
  // spread out. Must be >= poll_interval. Default 2s (or poll_interval when that is larger and
  // max_poll_interval is not given). Cost at idle: about tenants / (0.75 x this) claims per second;
  // pickup of a new message (without NOTIFY) waits at most this long.
  std::chrono::milliseconds max_poll_interval{std::chrono::seconds(2)};

  // How long a claim holds a message, >= 100ms. Default 30s. Renewed while handlers run; a message
  // whose holder dies is claimed again (and counted as a failed attempt) after at most this long.
  // Shorter recovers sooner after a crash but costs more renewal queries.
  std::chrono::milliseconds lease{std::chrono::seconds(30)};

  // How long one handler call may run, 100ms..3650d. Default: the lease (resolved by the parser
  // when the key is absent). From then on the call's should_abort returns non-zero (plugins that
  // poll it give up), a RETRY or PERMANENT FAILURE it returns is recorded as a retry with
  // last_error "handler exceeded dispatch.handler_timeout (<value>)" (an OK stays done), and one
  // warning names the tenant, topic, message_id and plugin of the call. A handler that ignores
  // should_abort still blocks its worker until it returns (its lease keeps being renewed). Cost: a
  // clock read per should_abort call and two uncontended mutex operations per handler call; a
  // shorter value gives up on slow-but-healthy calls sooner (each such give-up costs an attempt).
  std::chrono::milliseconds handler_timeout{std::chrono::seconds(30)};

  // Deliveries before a message is marked failed (status 3), 1..1000. Default 5.
  int max_attempts = 5;

  // Handler threads, 1..256. Default 4. Each may hold one database connection while it completes.
  int workers = 4;

  // What happens to a message whose topic no handler serves (and that is not parked by a hot
  // reload). kUnknownTopicFail (default): it fails at once ("No handler registered for topic
  // '<t>'", one attempt counted, status 3 after max_attempts as for any error). kUnknownTopicPark:
  // it is parked exactly like a topic whose handler plugin was removed: held or released ready,
  // no attempt counted, until a handler for its topic is loaded. Cost of park: such messages are
  // claimed and released again (at most park_lookahead rows per store, retried every
  // max(max_poll_interval, 1s)), and they stay in the table until a handler comes.
  std::string unknown_topic = kUnknownTopicFail;

  // The largest payload delivered, in bytes, 1024..1073741824 (1 GiB, PostgreSQL's text limit).
  // Default 16777216 (16 MiB). A claimed message with a larger payload is failed permanently
  // without running a handler ("payload of N bytes exceeds dispatch.max_payload_bytes (M)"), and
  // its payload is never read into outboxd (PostgreSQL measures it from the TOAST header; SQLite
  // 3.40 reads it inside SQLite to measure it). Cost of a larger cap: a payload is held several
  // times over while it is delivered, so peak memory grows by about 3x (PostgreSQL) to 6x (SQLite)
  // the payload per worker delivering one (docs/operations.md, "Payload size").
  int max_payload_bytes = 16 * 1024 * 1024;

  // On SIGTERM, how long to wait for in-flight messages before exiting anyway, >= 0. Default 30s.
  // A message still running then is redelivered after its lease expires.
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(30)};
};

// The "stores" object: settings shared by every tenant outbox store.
struct StoresConfig {
  // How long a call waits for a lock, >= 0. Default 5s. SQLite: a writer waiting for a locked
  // database. PostgreSQL: the sessions' lock_timeout (a table locked by another client's
  // transaction fails the call as unavailable instead of pinning a worker; 0 counts as 1 ms).
  // Cost of a longer value: a worker waits that long on a locked tenant before backing it off.
  std::chrono::milliseconds busy_timeout{std::chrono::seconds(5)};

  // Connections each store may keep open, 1..64. Default 2. The process holds up to
  // (stores x this) connections or file handles.
  int max_connections_per_store = 2;

  // Open database connections across ALL stores, NOTIFY listeners included, 0..100000; 0 means no
  // cap; otherwise at least dispatch.workers + 1. Default (left out): 64, or workers + 2 when that
  // is larger. When the cap is reached, the connection idle longest (in any store) is closed to
  // make room, so with more tenants than this, idle polling recycles connections.
  int max_connections = 64;

  // PostgreSQL: wake up on new messages through LISTEN/NOTIFY. Default false. When true, schema
  // setup installs an AFTER INSERT trigger on each outbox table (one pg_notify per inserting
  // statement; false drops it) and outboxd keeps one listening connection per database, within
  // max_connections (minus workers + 2, kept for claims). Polling continues as the fallback, so
  // max_poll_interval can be raised to cut idle queries.
  bool notify = false;

  // With notify: how often a table whose listener is live is checked anyway, >= 1s. Default 60s.
  // The check is the listener's probe: one query per database on the listening connection ("does
  // any table hold a row a claim would take now?"), so an idle listened tenant costs about
  // databases / (0.75 x this) cheap queries per second, no worker visit and no new session; workers
  // poll such a tenant only every 10 x this as a backstop. Cost of a longer value: a message whose
  // NOTIFY is lost (listener connection killed and not yet back), a message enqueued with a due_at
  // in the future, or a lease left by a crashed process waits up to this long. A failed claim
  // forgets the listener until its next NOTIFY.
  std::chrono::milliseconds notify_safety_interval{std::chrono::seconds(60)};

  // Done rows older than this are deleted by cleanup, >= 0. Default 7d. Failed rows are never
  // deleted.
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};

  // How often cleanup runs on each store, >= 1s. Default 1h. Each run is one DELETE per store.
  std::chrono::milliseconds cleanup_interval{std::chrono::hours(1)};
};

// One entry of the "handlers" array: a handler plugin and the topics it receives.
struct HandlerConfig {
  // Name of the loaded handler plugin. Required.
  std::string plugin;

  // Topics routed to this handler; non-empty strings, no duplicates. Empty (key left out) means
  // "the topics the plugin declares"; whether it declares any is checked at wiring time.
  std::vector<std::string> topics;

  // The plugin's own settings, as compact JSON object text. Default "{}". May hold secrets.
  std::string config_json = "{}";
};

// The "http" object: the observation endpoint (/metrics, /healthz, /readyz, /status).
struct HttpConfig {
  // "host:port" to listen on, e.g. "127.0.0.1:9780" ("[::1]:9780" for IPv6; port 0 picks a free
  // port, logged at start). Empty (default, key left out): no endpoint, and no metric is
  // collected. An address that cannot be bound stops the start with exit 2. Bind to loopback or a
  // private interface: the endpoint has no authentication (it shows no secrets).
  std::string listen;

  // Tenants that get tenant-labelled series, 0..1000000. Default 1000. Beyond it the tenants with
  // the smallest backlog lose theirs (outboxd_tenant_series_dropped counts them); the unlabelled
  // totals always cover every tenant. Each tenant costs about 6 series in every scrape.
  int max_tenant_series = 1000;

  // How often each tenant's backlog gauges are refreshed, >= 1s. Default 30s. N tenants cost
  // N / backlog_interval small indexed queries per second, spread evenly, through the stores'
  // pools (no extra connection); fewer when workers' empty claims already give the answer.
  std::chrono::milliseconds backlog_interval{std::chrono::seconds(30)};
};

struct OutboxdConfig {
  // Folder with the plugin .so files. Default kDefaultPluginDir (where `cmake --install` and the
  // package put the built-in plugins); must not be empty when given. Absolute after LoadConfigFile.
  std::string plugin_dir = kDefaultPluginDir;

  // Where private copies of plugin files are staged before dlopen. Empty (default) means a private
  // folder created at runtime under $XDG_RUNTIME_DIR or /tmp. Absolute after LoadConfigFile when
  // given.
  std::string staging_dir;

  // Written to processed_by. Empty (default) means "<hostname>:<pid>", decided at runtime.
  std::string worker_id;

  // "trace", "debug", "info" (default), "warn" or "error".
  std::string log_level = "info";

  // "text" (default): human-readable lines on stderr. "json": one JSON object per line with time,
  // level, message and, where the message names them, tenant, topic, message_id and plugin.
  std::string log_format = "text";

  // Default false: plugin files, and plugin_dir itself, that are group- or world-writable or owned
  // by a user other than the host user or root are refused. True (development only) loads them
  // anyway, with a warning at start.
  bool allow_insecure_plugin_dir = false;

  // Lower-case hex SHA-256 digests (64 characters each). Empty (default): any plugin file that
  // passes the other checks loads. Non-empty: only files whose content hashes to one of these.
  std::vector<std::string> plugin_sha256_allowlist;

  DiscoveryConfig discovery;
  DispatchConfig dispatch;
  StoresConfig stores;
  HttpConfig http;
  std::vector<HandlerConfig> handlers;  // default: none
};

// Parses and validates `json_text` into *out. Relative paths are left as written. On error *out is
// unchanged and the message names the key path (or line and column for malformed JSON).
Status ParseConfig(std::string_view json_text, OutboxdConfig* out);

// Reads and parses the file at `path`, then resolves relative plugin_dir and staging_dir against
// the file's folder. Errors are prefixed with the path: NotFound for a missing file, IoError for an
// unreadable one, InvalidArgument for bad content.
Status LoadConfigFile(const std::filesystem::path& path, OutboxdConfig* out);

// One line for the startup log. Plugin config objects are never printed: only plugin names.
std::string DescribeConfig(const OutboxdConfig& config);

}  // namespace outboxd

#endif  // OUTBOXD_CONFIG_CONFIG_H_
