#pragma once

// Which database a connection reached, as a number: two connections with the
// same identity talk to the same database of the same running server. The
// reader's remembered rows are tagged with it, and the change watch's counter
// only vouches for rows read from the database it watches - a multi-host
// conninfo, a load balancer or a failover can put the pool and the watch on
// different servers, whose change counters mean nothing to each other.
//
// Made of: the postmaster's start time (pg_postmaster_start_time(): a restart
// or a promoted standby is another server), the server address and port as the
// server sees them (inet_server_addr/port, NULL over a Unix socket), and the
// database's oid (a dropped and re-created database is another one). Every
// function and catalog used is readable by PUBLIC (PostgreSQL docs §9.26).

#include "pki/result.h"
#include "registry/postgresql/pq_handles.h"

#include <cstdint>

namespace lscgate {

/// The identity of the database `conn` is connected to (a hash of the text
/// above; never 0). Errors: the server's (the connection may be broken).
Result<std::uint64_t> pg_server_identity(PgConnection& conn);

}  // namespace lscgate
