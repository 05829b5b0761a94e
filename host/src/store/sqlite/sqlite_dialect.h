// SqliteDialect: the outbox on one SQLite database file (3.35+ for RETURNING, 3.38+ for the
// built-in json_each that unpacks the JSON list parameters). There are no schemas: the table is just <table>.
//
// Sessions are configured with busy_timeout = StoreOptions::busy_timeout, journal_mode = WAL and
// synchronous = NORMAL, so several processes may share the file: every claim is one write
// statement and every completion batch one BEGIN IMMEDIATE transaction.
// A missing file is created only when StoreOptions::create_database is set; otherwise opening
// fails with Unavailable and the file is not created (it is opened as a "mode=rw" URI). A path
// that is a directory, not a regular file, or not readable and writable is Unavailable at once,
// naming the path (Poco's own open would retry it for its login timeout); Poco's login timeout is
// bounded by busy_timeout. DatabaseIdentity is the file's (device, inode): a file replaced under
// the same path (a backup restored with `mv`) is reopened.
//
// Timestamps are INTEGER milliseconds since the Unix epoch (UTC) from
// CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER): SQLite's own clock, stable
// within one statement.
//
// THREADING: immutable; thread-safe.
#ifndef OUTBOXD_STORE_SQLITE_SQLITE_DIALECT_H_
#define OUTBOXD_STORE_SQLITE_SQLITE_DIALECT_H_

#include <string>

#include "store/sql/sql_dialect.h"

namespace outboxd::sql_store {

class SqliteDialect final : public SqlDialect {
 public:
  // `path`: the database file, as written after "sqlite:" in the connection string.
  explicit SqliteDialect(std::string path);

  const std::string& path() const { return path_; }

  std::string name() const override { return "SQLite"; }
  std::string DatabaseKey() const override { return path_; }
  std::optional<std::string> DatabaseIdentity() const override;
  std::string IdListParameter(const std::vector<int64_t>& ids) const override;
  OutboxSql RenderSql(const OutboxTable& table) const override;
  std::string NowMsExpression() const override;
  Status OpenSession(const StoreOptions& options,
                     std::unique_ptr<Poco::Data::Session>* session) const override;
  Status TranslateException(const Poco::Exception& e) const override;
  // A SqliteWriteGate waiting up to options.busy_timeout.
  std::unique_ptr<WriteGate> NewWriteGate(const StoreOptions& options) const override;
  // A SqliteStoreConnection; REQUIRES: `gate` is what NewWriteGate made.
  std::unique_ptr<StoreConnection> NewConnection(std::unique_ptr<Poco::Data::Session> session,
                                                 const OutboxSql* sql,
                                                 WriteGate* gate) const override;

  // Registers Poco's SQLite connector (idempotent, thread-safe). OpenSession calls it.
  static void RegisterConnector();

 private:
  std::string path_;
};

}  // namespace outboxd::sql_store

#endif  // OUTBOXD_STORE_SQLITE_SQLITE_DIALECT_H_
