// FakeTenantSet: a FakeDiscoverySource plus a TenantSet whose stores are FakeOutboxStores, with
// a registry to reach each fake by identifier. The common fixture of dispatch-level tests.
// OWNERSHIP: the tenant set owns the stores; stores() points into them and is valid while the store
// is in the current snapshot (or a snapshot the test holds).
#ifndef OUTBOXD_TESTS_FAKES_FAKE_TENANT_SET_H_
#define OUTBOXD_TESTS_FAKES_FAKE_TENANT_SET_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "discovery/tenant_set.h"
#include "fakes/fake_discovery_source.h"
#include "fakes/fake_outbox_store.h"

namespace outboxd::testing {

class FakeTenantSet {
 public:
  // Creates the tenant set over `ids` and runs the first refresh.
  Status Start(const std::vector<std::string>& ids) {
    std::vector<TenantLocation> locations;
    for (const auto& id : ids) locations.push_back(FakeDiscoverySource::Location(id));
    discovery_.Set(locations);
    tenant_set_ = std::make_unique<TenantSet>(
        &discovery_, [this](const TenantLocation& l, std::unique_ptr<OutboxStore>* out) {
          auto store = std::make_unique<FakeOutboxStore>(l.identifier);
          stores_[l.identifier] = store.get();
          *out = std::move(store);
          return Status::OK();
        });
    return tenant_set_->Refresh();
  }

  FakeDiscoverySource& discovery() { return discovery_; }
  TenantSet* tenant_set() { return tenant_set_.get(); }
  FakeOutboxStore& store(const std::string& id) { return *stores_.at(id); }
  std::map<std::string, FakeOutboxStore*>& stores() { return stores_; }

 private:
  FakeDiscoverySource discovery_;
  std::map<std::string, FakeOutboxStore*> stores_;
  std::unique_ptr<TenantSet> tenant_set_;
};

}  // namespace outboxd::testing

#endif  // OUTBOXD_TESTS_FAKES_FAKE_TENANT_SET_H_
