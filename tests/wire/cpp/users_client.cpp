// A C++ client of the demo's users.Users, built against Debian's libthrift-dev (Apache Thrift's C++ library)
// with code from `thrift --gen cpp`. Used by tests/wire/test_cpp_client.py; not part of thriftbox.
//
//   users_client HOST PORT MODE [small]      MODE: header | header-compact | header-zlib | framed
//
// Makes the same calls in every mode and prints one line per call: "<name> ok" or "<name> FAIL <why>".
// With "small", only ping and getVersion, whose answers do not grow when inflated beyond their compressed frame:
// libthrift 0.17's THeaderTransport inflates a zlib-transformed answer back into its receive buffer, sized for
// the largest frame so far, and overflows the heap when the answer outgrows it (valgrind shows it already for
// a NotFound answer; later Apache Thrift releases swap buffers instead).
// Exit status: 0 when every call gave what the demo's mocks (mocks/users.yaml) answer, 1 otherwise.

#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/THeaderProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/THeaderTransport.h>
#include <thrift/transport/TSocket.h>

#include "Users.h"

using apache::thrift::TApplicationException;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::protocol::THeaderProtocol;
using apache::thrift::protocol::TProtocol;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::THeaderTransport;
using apache::thrift::transport::TSocket;
using apache::thrift::transport::TTransport;

namespace {

int failures = 0;

void check(const std::string& name, bool ok, const std::string& why = "") {
  std::cout << name << (ok ? " ok" : " FAIL " + why) << std::endl;
  if (!ok) {
    ++failures;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && !(argc == 5 && std::string(argv[4]) == "small")) {
    std::cerr << "usage: users_client HOST PORT header|header-compact|header-zlib|framed [small]" << std::endl;
    return 2;
  }
  const std::string host = argv[1];
  const int port = std::stoi(argv[2]);
  const std::string mode = argv[3];
  const bool small = argc == 5;

  auto socket = std::make_shared<TSocket>(host, port);
  socket->setRecvTimeout(5000);
  socket->setSendTimeout(5000);
  std::shared_ptr<TTransport> transport;
  std::shared_ptr<TProtocol> protocol;
  if (mode == "framed") {
    transport = std::make_shared<TFramedTransport>(socket);
    protocol = std::make_shared<TBinaryProtocol>(transport);
  } else {
    transport = socket;
    const uint16_t id = mode == "header-compact" ? apache::thrift::protocol::T_COMPACT_PROTOCOL
                                                 : apache::thrift::protocol::T_BINARY_PROTOCOL;
    auto header = std::make_shared<THeaderProtocol>(transport, id);
    header->setHeader("client", "users_client.cpp");
    if (mode == "header-zlib") {
      std::dynamic_pointer_cast<THeaderTransport>(header->getTransport())
          ->setTransform(THeaderTransport::ZLIB_TRANSFORM);
    }
    protocol = header;
  }
  UsersClient client(protocol);
  try {
    transport->open();

    client.ping();
    check("ping", true);

    std::string version;
    client.getVersion(version);
    check("getVersion", version == "1.4.0", version);

    if (small) {
      transport->close();
      return failures == 0 ? 0 : 1;
    }

    User grace;
    client.getUser(grace, 42);
    check("getUser", grace.id == 42 && grace.handle == "grace" && grace.firstName == "Grace" &&
                         grace.role == Role::ADMIN && grace.isVerified,
          grace.handle);

    try {
      User none;
      client.getUser(none, 950);
      check("getUser-NotFound", false, "no exception");
    } catch (const NotFound& e) {
      check("getUser-NotFound", e.message == "no user 950" && e.resourceId == "950", e.message);
    }

    std::map<int64_t, User> some;
    client.getUsers(some, std::vector<int64_t>{1, 2, 3});
    bool ids_ok = true;
    for (const auto& kv : some) {
      ids_ok = ids_ok && kv.first == kv.second.id;
    }
    check("getUsers", ids_ok, "a key differs from its user's id");

    NewUser blocked;
    blocked.email = "ada@blocked.example";
    blocked.firstName = "Ada";
    blocked.lastName = "Lovelace";
    try {
      User made;
      client.createUser(made, blocked);
      check("createUser-InvalidRequest", false, "no exception");
    } catch (const InvalidRequest& e) {
      check("createUser-InvalidRequest", e.fieldName == "email", e.message);
    }

    NewUser ada = blocked;
    ada.email = "ada@example.com";
    User made;
    client.createUser(made, ada);
    check("createUser", made.email == "ada@example.com" && made.firstName == "Ada", made.email);

    User stored;
    client.getUser(stored, made.id);
    check("getUser-stored", stored.id == made.id && stored.email == "ada@example.com", stored.email);

    UserQuery query;
    UserPage page;
    client.listUsers(page, query);
    check("listUsers", page.totalCount >= static_cast<int32_t>(page.users.size()), "totalCount too small");

    client.deleteUser(made.id);
    check("deleteUser", true);

    transport->close();
  } catch (const TApplicationException& e) {
    check("call", false, std::string("TApplicationException: ") + e.what());
  } catch (const std::exception& e) {
    check("call", false, e.what());
  }
  return failures == 0 ? 0 : 1;
}
