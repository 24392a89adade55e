#!/usr/bin/env bash
# A throw-away MIT KDC on 127.0.0.1 for the Kerberos interop tests.
#
# Idempotent: installs Debian's krb5-kdc, krb5-admin-server (kadmin.local)
# and libkrb5-dev (to build python-gssapi) when missing, creates the realm
# in $HVINV_KDC_DIR (default: $TMPDIR/hvinv-kdc, never /etc) the first time,
# and starts krb5kdc unless it is already answering. Nothing here reads
# /etc/krb5.conf: every client is pointed at $HVINV_KDC_DIR/krb5.conf
# through KRB5_CONFIG, which names only 127.0.0.1, with DNS lookups off.
#
# Also installs faketime (libfaketime), to run an acceptor whose clock is
# off (the clock-skew test).
#
# Realm HVINV.TEST, KDC on 127.0.0.1:$HVINV_KDC_PORT (default 17088, TCP
# and UDP). Principals:
#   hvinv-user                  the collector's account (test password)
#   hvinv-user\@hvinv.test      its NT-ENTERPRISE twin (UPN logon), same password
#   WSMAN/hv0{1,2,3}.hvinv.test host principals, random keys, in the keytab
#   HTTP/hv01.hvinv.test        a host that registered only HTTP/
# Tests add their own principals (per-test accounts whose AS requests they
# count in the KDC log) with kadmin.local.
#
# Writes $HVINV_KDC_DIR/env (shell assignments the tests read):
# KRB5_CONFIG, KRB5_KDC_PROFILE, KRB5_KTNAME, the log path, realm and port.
set -euo pipefail

port="${HVINV_KDC_PORT:-17088}"
dir="${HVINV_KDC_DIR:-${TMPDIR:-/tmp}/hvinv-kdc}"
realm=HVINV.TEST
# A test password, for a realm that exists only on this machine.
password="${HVINV_KDC_TEST_PASSWORD:-Kerb-Test-Pw-1}"

need=()
command -v krb5kdc >/dev/null 2>&1 || [[ -x /usr/sbin/krb5kdc ]] || need+=(krb5-kdc)
command -v kadmin.local >/dev/null 2>&1 || [[ -x /usr/sbin/kadmin.local ]] || need+=(krb5-admin-server)
command -v krb5-config >/dev/null 2>&1 || need+=(libkrb5-dev)
# libfaketime: an acceptor whose clock is 10 minutes off (clock skew test).
dpkg -s libfaketime >/dev/null 2>&1 || need+=(faketime)
if ((${#need[@]})); then
    echo "kdc/start.sh: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >&2
fi
export PATH="$PATH:/usr/sbin:/sbin"

mkdir -p "$dir"
chmod 700 "$dir"
export KRB5_CONFIG="$dir/krb5.conf"
export KRB5_KDC_PROFILE="$dir/kdc.conf"

cat >"$KRB5_CONFIG" <<CONF
[libdefaults]
    default_realm = $realm
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    default_ccache_name = FILE:$dir/ccache
    default_keytab_name = FILE:$dir/hosts.keytab
[realms]
    $realm = {
        kdc = 127.0.0.1:$port
    }
[domain_realm]
    .hvinv.test = $realm
    hvinv.test = $realm
CONF

cat >"$KRB5_KDC_PROFILE" <<CONF
[kdcdefaults]
    kdc_listen = 127.0.0.1:$port
    kdc_tcp_listen = 127.0.0.1:$port
[realms]
    $realm = {
        database_name = $dir/principal
        key_stash_file = $dir/stash
        acl_file = $dir/kadm5.acl
        max_life = 10h 0m 0s
        max_renewable_life = 1d 0h 0m 0s
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
        default_principal_flags = +preauth
    }
[logging]
    kdc = FILE:$dir/kdc.log
    admin_server = FILE:$dir/kadmin.log
    default = FILE:$dir/krb5lib.log
CONF
: >"$dir/kadm5.acl"

if [[ ! -f "$dir/principal" ]]; then
    # Fresh realm: a random master key (never typed), the accounts, the keytab.
    kdb5_util create -s -r "$realm" -P "$(head -c 24 /dev/urandom | base64)" >/dev/null 2>&1
    kadmin.local -r "$realm" -q "addprinc -pw $password hvinv-user" >/dev/null 2>&1
    kadmin.local -r "$realm" -q "addprinc -pw $password hvinv-user\\@hvinv.test" >/dev/null 2>&1
    for p in WSMAN/hv01.hvinv.test WSMAN/hv02.hvinv.test WSMAN/hv03.hvinv.test HTTP/hv01.hvinv.test; do
        kadmin.local -r "$realm" -q "addprinc -randkey $p" >/dev/null 2>&1
        kadmin.local -r "$realm" -q "ktadd -k $dir/hosts.keytab $p" >/dev/null 2>&1
    done
fi

# Running already? (The pid file is ours; the port check proves it answers.)
running=false
if [[ -f "$dir/krb5kdc.pid" ]] && kill -0 "$(cat "$dir/krb5kdc.pid")" 2>/dev/null \
    && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    running=true
fi
if ! $running; then
    rm -f "$dir/krb5kdc.pid"
    krb5kdc -P "$dir/krb5kdc.pid" -r "$realm"
    for _ in $(seq 1 50); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            running=true
            break
        fi
        sleep 0.1
    done
    $running || { echo "kdc/start.sh: krb5kdc did not start listening on 127.0.0.1:$port" >&2; exit 1; }
fi

cat >"$dir/env" <<ENV
KRB5_CONFIG=$KRB5_CONFIG
KRB5_KDC_PROFILE=$KRB5_KDC_PROFILE
KRB5_KTNAME=FILE:$dir/hosts.keytab
HVINV_KDC_LOG=$dir/kdc.log
HVINV_KDC_REALM=$realm
HVINV_KDC_PORT=$port
HVINV_KDC_DIR=$dir
ENV
echo "kdc/start.sh: realm $realm on 127.0.0.1:$port ($dir)" >&2
