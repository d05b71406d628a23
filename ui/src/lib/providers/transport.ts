// Whether a provider's address would send its API key unencrypted across the
// internet: plain http:// to a host that is neither this computer nor a
// private network. The same rule the core enforces on save and before every
// request (providers/validate.rs); here it decides when the editor warns and
// asks for the user's confirmation.

function ipv4Local(parts: number[]): boolean {
  const [a, b] = parts as [number, number, number, number];
  return (
    a === 127 || // loopback
    a === 10 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) // link-local
  );
}

function parseIpv4(host: string): number[] | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!match) return null;
  const parts = match.slice(1).map(Number);
  return parts.every((n) => n <= 255) ? parts : null;
}

function ipv6Local(address: string): boolean {
  if (address === "::1") return true;
  // IPv4-mapped, as the URL parser writes it: ::ffff:c0a8:9 is 192.168.0.9.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(address);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    return ipv4Local([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  }
  const first = address.startsWith("::") ? 0 : parseInt(address.split(":")[0]!, 16);
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80; // unique local, link-local
}

/** This computer (loopback, localhost) or a private network (RFC 1918, link-local, IPv6 ULA, `.local`). */
export function isLocalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host.startsWith("[")) return ipv6Local(host.slice(1, -1));
  const v4 = parseIpv4(host);
  if (v4) return ipv4Local(v4);
  return host === "localhost" || host.endsWith(".localhost") || (host.endsWith(".local") && host.length > ".local".length);
}

/** The host a plain-http address would send the key to in clear text; null when it is https, local, or not a URL. */
export function insecureHost(baseUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(baseUrl.trim());
  } catch {
    return null;
  }
  if (url.protocol !== "http:" || url.hostname === "") return null;
  return isLocalHost(url.hostname) ? null : url.hostname;
}
