/**
 * Words nft's parser takes as keywords, so a table named one of them cannot be written in nft's
 * own syntax (`nft list table inet counter` is a syntax error) even though a JSON batch creates it.
 * Measured on nftables 1.0.6 (Debian 12): every word of nft(8) and libnftables-json(5) tried as
 * `nft list table inet WORD`; these are the ones it refused with "syntax error, unexpected".
 * Later nft versions add keywords; a name with a digit or an underscore (knockgate_2) is never one.
 */
export const NFT_KEYWORDS: ReadonlySet<string> = new Set([
  'accept', 'add', 'ah', 'all', 'and', 'arp', 'bridge', 'cgroup', 'chain', 'chains', 'comment',
  'constant', 'continue', 'counter', 'counters', 'cpu', 'create', 'ct', 'day', 'dccp', 'define',
  'delete', 'describe', 'device', 'devices', 'dnat', 'drop', 'dst', 'dup', 'dynamic', 'ecn',
  'element', 'elements', 'esp', 'ether', 'exists', 'expires', 'exthdr', 'fib', 'flags', 'flow',
  'flowtable', 'flowtables', 'flush', 'frag', 'fwd', 'get', 'goto', 'handle', 'hbh', 'hook',
  'hooks', 'hour', 'ibriport', 'ibrname', 'icmp', 'icmpv6', 'igmp', 'iif', 'iifgroup', 'iifname',
  'iiftype', 'include', 'index', 'inet', 'insert', 'interval', 'ip', 'ip6', 'ipsec', 'jhash',
  'jump', 'limit', 'limits', 'list', 'log', 'lt', 'map', 'maps', 'mark', 'masquerade', 'meta',
  'meter', 'meters', 'mh', 'missing', 'monitor', 'netdev', 'nftrace', 'not', 'notrack', 'numgen',
  'obriport', 'obrname', 'offload', 'oif', 'oifgroup', 'oifname', 'oiftype', 'or', 'osf',
  'pkttype', 'policy', 'position', 'priority', 'queue', 'quota', 'quotas', 'random', 'redefine',
  'redirect', 'reject', 'rename', 'replace', 'reset', 'return', 'rt', 'rtclassid', 'rule',
  'ruleset', 'sctp', 'secmark', 'secmarks', 'set', 'sets', 'size', 'skgid', 'skuid', 'snat',
  'socket', 'srh', 'symhash', 'synproxy', 'synproxys', 'table', 'tables', 'tcp', 'th', 'time',
  'timeout', 'tproxy', 'type', 'typeof', 'udp', 'undefine', 'update', 'vlan', 'vmap', 'xor', 'xt',
]);
