// RegisterPocoConnectors: registers Poco Data's SQLite and PostgreSQL connectors with Poco's
// SessionFactory, both in one call, once per process.
//
// Why one call for both engines: the SessionFactory singleton is created by the first
// registration, and two registrations running at once on two threads (a worker opening the first
// SQLite tenant while another opens the first PostgreSQL one) race inside it (ThreadSanitizer:
// pthread_mutex_init of its mutex against pthread_mutex_lock in SessionFactory::add). One
// std::call_once orders every registration before any session is created.
//
// THREADING: any thread; every caller returns after both connectors are registered.
#ifndef OUTBOXD_STORE_SQL_POCO_CONNECTORS_H_
#define OUTBOXD_STORE_SQL_POCO_CONNECTORS_H_

namespace outboxd::sql_store {

void RegisterPocoConnectors();

}  // namespace outboxd::sql_store

#endif  // OUTBOXD_STORE_SQL_POCO_CONNECTORS_H_
