// A C++ client of the Echo service (tests/wire/test_cpp_tls.py), built against Debian's libthrift-dev:
// TSSLSocket under a buffered or framed transport and the binary or compact protocol.
//   tls_client HOST PORT binary|compact buffered|framed CA.pem [CLIENT.pem CLIENT.key]
// Prints "ok" and exits 0 when every call was answered as expected; 3 when the connection or a call failed.
#include <cstdlib>
#include <functional>  // libthrift's TServerSocket.h uses std::function without including it
#include <iostream>
#include <memory>
#include <string>

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSSLSocket.h>

#include "Echo.h"

using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::protocol::TCompactProtocol;
using apache::thrift::protocol::TProtocol;
using apache::thrift::transport::TBufferedTransport;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TSSLSocketFactory;
using apache::thrift::transport::TTransport;

int main(int argc, char** argv) {
  if (argc != 6 && argc != 8) {
    std::cerr << "usage: tls_client HOST PORT binary|compact buffered|framed CA [CERT KEY]\n";
    return 2;
  }
  const std::string host = argv[1], protocol = argv[3], framing = argv[4];
  const int port = std::atoi(argv[2]);
  try {
    auto factory = std::make_shared<TSSLSocketFactory>();
    factory->authenticate(true);  // check the server's certificate and its host name
    factory->loadTrustedCertificates(argv[5]);
    if (argc == 8) {
      factory->loadCertificate(argv[6]);
      factory->loadPrivateKey(argv[7]);
    }
    auto sock = factory->createSocket(host, port);
    sock->setRecvTimeout(5000);
    std::shared_ptr<TTransport> trans;
    if (framing == "framed") {
      trans = std::make_shared<TFramedTransport>(sock);
    } else {
      trans = std::make_shared<TBufferedTransport>(sock);
    }
    std::shared_ptr<TProtocol> proto;
    if (protocol == "compact") {
      proto = std::make_shared<TCompactProtocol>(trans);
    } else {
      proto = std::make_shared<TBinaryProtocol>(trans);
    }
    EchoClient client(proto);
    trans->open();
    for (int i = 1; i <= 3; ++i) {
      Point p;
      client.getPoint(p, 1000 + i, "abc");
      if (p.x != 1000 + i || p.y != 3) {
        std::cerr << "getPoint(" << 1000 + i << ", abc) answered x=" << p.x << " y=" << p.y << "\n";
        return 1;
      }
    }
    client.fire(4242);  // oneway: no answer; the next call must still line up
    client.ping();
    trans->close();
  } catch (const std::exception& e) {
    std::cout << "failed: " << e.what() << "\n";
    return 3;
  }
  std::cout << "ok\n";
  return 0;
}
