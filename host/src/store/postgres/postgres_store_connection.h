// PostgresStoreConnection: a StoreConnection on a PostgreSQL session. Every statement runs through
// Poco Data; the hot ones (BEGIN, COMMIT, ROLLBACK, claim, the four outcomes, lease renewal, the
// pending-work check) are built once on first use with their parameters bound to member variables
// and re-executed after that.
//
// AbandonStatements also forgets the hot statements (see StoreConnection::AbandonStatements).
//
// OWNERSHIP, THREADING: as StoreConnection.
#ifndef OUTBOXD_STORE_POSTGRES_POSTGRES_STORE_CONNECTION_H_
#define OUTBOXD_STORE_POSTGRES_POSTGRES_STORE_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/sql/store_connection.h"

namespace outboxd::sql_store {

class PostgresStoreConnection final : public StoreConnection {
 public:
  PostgresStoreConnection(std::unique_ptr<Poco::Data::Session> session, const OutboxSql* sql);
  ~PostgresStoreConnection() override;

  void AbandonStatements() override;

  void BeginWrite() override;
  void Commit() override;
  void Rollback() override;
  void Claim(const std::string& owner_token, int64_t lease_ms, int limit,
             std::vector<OutboxMessage>* out) override;
  void MarkDispatched(const std::string& processed_by, const std::string& id_list,
                      const std::string& owner_token, std::vector<int64_t>* applied) override;
  void Release(const std::string& id_list, const std::string& owner_token,
               std::vector<int64_t>* applied) override;
  void Reschedule(const std::string& reschedule_list, const std::string& owner_token,
                  std::vector<int64_t>* applied) override;
  void Fail(const std::string& processed_by, const std::string& fail_list,
            const std::string& owner_token, std::vector<int64_t>* applied) override;
  int64_t RenewLease(const std::string& owner_token, int64_t lease_ms) override;
  bool HasPendingWork() override;

 private:
  struct HotStatements;  // defined in the .cc: Poco statements and their bound variables

  std::unique_ptr<HotStatements> hot_;
};

}  // namespace outboxd::sql_store

#endif  // OUTBOXD_STORE_POSTGRES_POSTGRES_STORE_CONNECTION_H_
