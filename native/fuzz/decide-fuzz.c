/* Fuzz target for decide.c alone: the host string the relay passes on (the SOCKS5 domain or the HTTP authority
 * cut by relay.c) into the table's decision, and the address parsers. Input: two bytes of port, then the host. */

#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const struct plan *plan = fuzz_setup(0);
  if (size < 2 || size > 1024) return 0;
  unsigned port = (unsigned)data[0] << 8 | data[1];
  char *host = xcalloc(size - 1, 1);
  memcpy(host, data + 2, size - 2);
  struct proxy_ip ip;
  char name[256];
  (void)proxy_parse_host(host, &ip, name);
  struct proxy_cidr cidr;
  if (proxy_parse_cidr(host, &cidr)) {
    char out[64];
    proxy_format_ip(&cidr.ip, out);
  }
  free(proxy_decide(plan, host, port));
  free(host);
  return 0;
}
