vcl 4.1;
# The demo's CDN layer: Varnish with the xkey module in front of one demo instance.
# Render it before use: replace {{BACKEND_HOST}}, {{BACKEND_PORT}} and {{READY_TOKEN}} (the e2e
# suite and the benchmarks do this in e2e/stack.ts), then
#   varnishd -F -f demo.vcl -a 127.0.0.1:6081 -s malloc,64m
# and start the instance with STRATA_VARNISH_URL=http://127.0.0.1:6081 so its purges reach it.
import xkey;
import purge;
import std;

backend demo {
  .host = "{{BACKEND_HOST}}";
  .port = "{{BACKEND_PORT}}";
}

acl purgers {
  "127.0.0.1";
  "::1";
}

sub vcl_recv {
  unset req.http.xkey-purged;
  if (req.url == "/.strata/varnish-ready") {
    return (synth(200, "Ready"));
  }
  if (req.method == "PURGE" || req.method == "BAN") {
    if (client.ip !~ purgers) {
      return (synth(403, "Forbidden"));
    }
  }
  # strata.purge({ tags }) → PURGE with xkey-purge: drops every object carrying one of the tags.
  # With mode: 'soft' the purger adds xkey-soft: the objects expire but stay for their grace (the
  # policy's stale-while-revalidate), served stale while one background fetch refreshes them.
  if (req.method == "BAN") {
    ban("obj.status != 0");
    return (synth(200, "Banned"));
  }
  if (req.method == "PURGE") {
    if (req.http.xkey-purge) {
      if (req.http.xkey-soft) {
        set req.http.xkey-purged = xkey.softpurge(req.http.xkey-purge);
      } else {
        set req.http.xkey-purged = xkey.purge(req.http.xkey-purge);
      }
      return (synth(200, "Purged"));
    }
    return (hash);
  }
  # The purge stream is one long response: hand the connection straight to the origin.
  if (req.url ~ "^/strata/events") {
    return (pipe);
  }
  if (req.method != "GET" && req.method != "HEAD") {
    return (pass);
  }
  # Unlike the built-in VCL, an Authorization header does not rule caching out here: the origin
  # says what may be shared (vcl_backend_response), and Vary keeps one user's variant apart.
  return (hash);
}

sub strata_url_purge {
  if (req.http.xkey-soft) {
    set req.http.xkey-purged = purge.soft();
  } else {
    set req.http.xkey-purged = purge.hard();
  }
  return (synth(200, "Purged"));
}

sub vcl_hit {
  if (req.method == "PURGE") {
    call strata_url_purge;
  }
}

sub vcl_miss {
  if (req.method == "PURGE") {
    call strata_url_purge;
  }
}

sub vcl_backend_response {
  if (beresp.http.surrogate-key) {
    set beresp.http.xkey = beresp.http.surrogate-key;
  }
  # RFC 9111 §3.5: an answer to an authorized request may be shared only when it says `public`.
  if (bereq.http.authorization && beresp.http.cdn-cache-control !~ "(?i)(^|,)\s*public\b") {
    set beresp.uncacheable = true;
    set beresp.ttl = 0s;
    return (deliver);
  }
  # The CDN's own field first (RFC 9213), then Surrogate-Control; either wins over Cache-Control.
  if (beresp.http.cdn-cache-control) {
    if (beresp.http.cdn-cache-control ~ "(?i)(no-store|private)") {
      set beresp.uncacheable = true;
      set beresp.ttl = 0s;
      return (deliver);
    }
    if (beresp.http.cdn-cache-control ~ "(?i)(^|,)\s*max-age=\d+") {
      set beresp.ttl = std.duration(regsub(beresp.http.cdn-cache-control, "(?i)^(.*,)?\s*max-age=(\d+).*$", "\2") + "s", 0s);
    }
    if (beresp.http.cdn-cache-control ~ "(?i)(^|,)\s*stale-while-revalidate=\d+") {
      set beresp.grace = std.duration(regsub(beresp.http.cdn-cache-control, "(?i)^(.*,)?\s*stale-while-revalidate=(\d+).*$", "\2") + "s", 0s);
    } else {
      set beresp.grace = 0s;
    }
  } elsif (beresp.http.surrogate-control ~ "(?i)(^|,)\s*max-age=\d+") {
    set beresp.ttl = std.duration(regsub(beresp.http.surrogate-control, "(?i)^(.*,)?\s*max-age=(\d+).*$", "\2") + "s", 0s);
  }
}

sub vcl_deliver {
  unset resp.http.xkey;
  # RFC 9211: this cache's Cache-Status member goes after the upstream ones.
  if (obj.uncacheable) {
    set resp.http.x-strata-cdn = "varnish; fwd=bypass";
  } elsif (obj.hits > 0 && obj.ttl < 0s) {
    # Served in grace (stale-while-revalidate, or after a soft purge) while a fetch refreshes it.
    # RFC 9211 ttl: negative once stale (truncating ttl - 1 rounds a negative ttl down).
    set resp.http.x-strata-cdn = "varnish; hit; ttl=" + std.real2integer(std.real(duration=obj.ttl) - 1, -1) + "; detail=stale-while-revalidate";
  } elsif (obj.hits > 0) {
    set resp.http.x-strata-cdn = "varnish; hit";
  } else {
    set resp.http.x-strata-cdn = "varnish; fwd=miss; stored";
  }
  if (resp.http.cache-status) {
    set resp.http.cache-status = resp.http.cache-status + ", " + resp.http.x-strata-cdn;
  } else {
    set resp.http.cache-status = resp.http.x-strata-cdn;
  }
  unset resp.http.x-strata-cdn;
}

sub vcl_synth {
  if (req.url == "/.strata/varnish-ready") {
    set resp.http.x-strata-varnish = "{{READY_TOKEN}}";
  }
  if (req.http.xkey-purged) {
    set resp.http.xkey-purged = req.http.xkey-purged;
    set resp.http.content-type = "text/plain; charset=utf-8";
    set resp.body = req.http.xkey-purged + " purged";
    return (deliver);
  }
}
