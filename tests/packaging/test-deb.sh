#!/usr/bin/env bash
# CTest: the Debian package of this build tree, end to end.
#   1. cpack builds the .deb into a temporary folder;
#   2. its control fields, and its Depends: they name the package of every shared library the
#      binary links (libpqxx-6.4, libpq5, ...), and each is installed on this machine;
#   3. its files: the stripped binary, README.md and docs, the systemd units of packaging/systemd,
#      the Prometheus rules of packaging/prometheus;
#   4. a real `dpkg --root=DIR -i` into a fresh root (its own dpkg database, holding just the
#      host's packages that satisfy the Depends, so dpkg checks them; the host's /usr and dpkg
#      database are not touched), then ldd, `ops --version` and `ops doctor` against a fresh
#      database of the test cluster, run from that root; then `dpkg --root -P` removes it all.
# Any failure exits non-zero; nothing is skipped.
set -euo pipefail

usage() {
    echo "usage: test-deb.sh --build-dir DIR --source-dir DIR --cpack PATH --version V --build-type T --pgport PORT" >&2
    exit 2
}
build_dir="" source_dir="" cpack="" version="" build_type="" pgport=""
while [ $# -gt 0 ]; do
    case "$1" in
    --build-dir) build_dir=$2 ;;
    --source-dir) source_dir=$2 ;;
    --cpack) cpack=$2 ;;
    --version) version=$2 ;;
    --build-type) build_type=$2 ;;
    --pgport) pgport=$2 ;;
    *) usage ;;
    esac
    shift 2
done
for value in "$build_dir" "$source_dir" "$cpack" "$version" "$build_type" "$pgport"; do
    [ -n "$value" ] || usage
done

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
die() {
    echo "FAIL: $*" >&2
    exit 1
}
ok() { echo "ok: $*"; }
trim() { sed 's/^[[:space:]]*//; s/[[:space:]]*$//' <<<"$1"; }

for tool in "$cpack" dpkg dpkg-deb dpkg-query dpkg-shlibdeps file ldd readelf psql; do
    command -v "$tool" >/dev/null || die "$tool is not installed (scripts/install-deps.sh installs it)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/ops-packaging-test.XXXXXX")
database="ops_pkg_$$"
admin=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pgport" -U postgres -d postgres)
cleanup() {
    env -u PGDATABASE "${admin[@]}" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# --- 1. build the package ---------------------------------------------------------------------
if ! "$cpack" -G DEB --config "$build_dir/CPackConfig.cmake" -B "$work/cpack" >"$work/cpack.log" 2>&1; then
    cat "$work/cpack.log" >&2
    die "cpack failed"
fi
debs=("$work"/cpack/*.deb)
{ [ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ]; } || die "cpack made ${#debs[@]} .deb files: ${debs[*]}"
deb=${debs[0]}
arch=$(dpkg --print-architecture)
[ "$(basename "$deb")" = "ops_${version}_${arch}.deb" ] || fail "package file is $(basename "$deb"), expected ops_${version}_${arch}.deb"
ok "cpack built $(basename "$deb")"

# --- 2. control fields and Depends ------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = ops ] || fail "Package is '$(field Package)', expected ops"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', expected $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture is '$(field Architecture)', expected $arch"
[ "$(field Section)" = admin ] || fail "Section is '$(field Section)', expected admin"
[[ "$(field Maintainer)" =~ ^[^\<]+\ \<[^@\>]+@[^\>]+\>$ ]] || fail "Maintainer '$(field Maintainer)' is not 'Name <address>'"
[ -n "$(field Description)" ] || fail "Description is empty"
depends=$(field Depends)
echo "Depends: $depends"
[ -n "$depends" ] || die "Depends is empty"

# Installed packages on this machine: status, binary:Package, Package, Version, Provides.
installed=$(dpkg-query -W -f='${db:Status-Abbrev}|${binary:Package}|${Package}|${Version}|${Provides}\n' |
    awk -F'|' '$1 ~ /^ii/')

# Prints the installed package (binary:Package) that satisfies `name [op version]`, directly or
# through its Provides; fails when none does.
provider_of() {
    local name=$1 op=$2 want=$3 bpkg pkg pkg_version provides entry pname prest pversion
    local -a entries
    while IFS='|' read -r _ bpkg pkg pkg_version provides; do
        if [ "$pkg" = "$name" ] && { [ -z "$op" ] || dpkg --compare-versions "$pkg_version" "$op" "$want"; }; then
            echo "$bpkg"
            return 0
        fi
        IFS=',' read -ra entries <<<"$provides"
        for entry in "${entries[@]}"; do
            read -r pname prest <<<"$entry"
            [ "${pname%:any}" = "$name" ] || continue
            if [ -z "$op" ]; then
                echo "$bpkg"
                return 0
            fi
            pversion=$(sed -n 's/^( *= *\([^ )]*\) *)$/\1/p' <<<"$prest")
            if [ -n "$pversion" ] && dpkg --compare-versions "$pversion" "$op" "$want"; then
                echo "$bpkg"
                return 0
            fi
        done
    done <<<"$installed"
    return 1
}

# "name", "name (>= 1.2)", "name:any (>= 1.2)"
relation_re='^[[:space:]]*([a-z0-9][a-z0-9.+-]*)(:[a-z0-9]+)?[[:space:]]*(\([[:space:]]*(<<|<=|=|>=|>>)[[:space:]]*([^[:space:])]+)[[:space:]]*\))?[[:space:]]*$'
declare -A depends_names=() providers=()
IFS=',' read -ra groups <<<"$depends"
for group in "${groups[@]}"; do
    IFS='|' read -ra alternatives <<<"$group"
    satisfied=""
    for alternative in "${alternatives[@]}"; do
        if [[ "$alternative" =~ $relation_re ]]; then
            name=${BASH_REMATCH[1]} op=${BASH_REMATCH[4]} want=${BASH_REMATCH[5]}
        else
            fail "cannot parse Depends entry '$alternative'"
            continue
        fi
        depends_names[$name]=1
        if provider=$(provider_of "$name" "$op" "$want"); then
            satisfied=$provider
            providers[$provider]=1
            break
        fi
    done
    if [ -n "$satisfied" ]; then
        ok "Depends '$(trim "$group")' is satisfied here by $satisfied"
    else
        fail "Depends '$(trim "$group")' is not satisfied by any package installed on this machine"
    fi
done
for name in libpqxx-6.4 libpq5 libssl3 zlib1g libstdc++6 libc6; do
    [ -n "${depends_names[$name]:-}" ] || fail "Depends does not name $name"
done

# Every shared library the binary links (NEEDED) belongs to a package that satisfies Depends.
dpkg-deb -x "$deb" "$work/extracted"
packaged_bin="$work/extracted/usr/bin/ops"
[ -x "$packaged_bin" ] || die "the package has no executable usr/bin/ops"
mapfile -t needed < <(readelf -d "$packaged_bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
[ ${#needed[@]} -gt 0 ] || fail "readelf finds no NEEDED libraries in usr/bin/ops"
for soname in "${needed[@]}"; do
    owners=$(dpkg -S "*/$soname" 2>/dev/null | awk -v so="$soname" -F': ' '
        /^diversion/ { next }
        { n = split($2, parts, "/"); if (parts[n] == so && $2 !~ /\/debug\//) print $1 }' |
        tr ',' '\n' | sed 's/^ *//' | sort -u)
    [ -n "$owners" ] || {
        fail "no installed package owns $soname"
        continue
    }
    covered=""
    for owner in $owners; do
        [ -n "${providers[$owner]:-}" ] && covered=$owner
    done
    if [ -n "$covered" ]; then
        ok "$soname ($covered) is covered by Depends"
    else
        fail "$soname belongs to $(tr '\n' ' ' <<<"$owners"), which Depends does not name"
    fi
done

# --- 3. files in the package ------------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' >"$work/contents"
has() { grep -qxF "$1" "$work/contents"; }
has /usr/bin/ops || fail "the package lacks /usr/bin/ops"
file -b "$packaged_bin" | grep -q ', stripped' || fail "usr/bin/ops is not stripped: $(file -b "$packaged_bin")"
has /usr/share/doc/ops/README.md || fail "the package lacks /usr/share/doc/ops/README.md"
docs=0
while IFS= read -r doc; do
    docs=$((docs + 1))
    has "/usr/share/doc/ops/${doc#"$source_dir"/docs/}" ||
        fail "the package lacks /usr/share/doc/ops/${doc#"$source_dir"/docs/}"
done < <(find "$source_dir/docs" -name '*.md' | sort)
ok "README.md and $docs docs are in /usr/share/doc/ops"

# The systemd units: exactly those of packaging/systemd (none when it has none).
find "$source_dir/packaging/systemd" -maxdepth 1 -type f \( -name '*.service' -o -name '*.timer' \) \
    -printf '/usr/lib/systemd/system/%f\n' 2>/dev/null | sort >"$work/units.expected" || true
grep -E '^/usr/lib/systemd/system/[^/]+$' "$work/contents" | sort >"$work/units.packaged" || true
if ! diff -u "$work/units.expected" "$work/units.packaged" >"$work/units.diff"; then
    cat "$work/units.diff" >&2
    fail "the package's systemd units differ from packaging/systemd (- expected, + packaged)"
fi
ok "$(wc -l <"$work/units.expected") systemd units from packaging/systemd are in /usr/lib/systemd/system"

# --- 4. a real install into a fresh root ------------------------------------------------------
root="$work/root"
admindir="$root/var/lib/dpkg"
mkdir -p "$admindir/info" "$admindir/updates" "$admindir/triggers"
: >"$admindir/status"
: >"$admindir/available"
for provider in "${!providers[@]}"; do
    dpkg-query -s "$provider" >>"$admindir/status"
    echo >>"$admindir/status"
    : >"$admindir/info/$provider.list"
done
mkdir -p "$root/etc"
# The postinst runs on this host's /bin/sh (the fresh root has none) with DPKG_ROOT set, so
# the account it creates lands in "$root/etc/passwd", not the host's.
dpkg_root=(dpkg --root="$root" --log="$work/dpkg.log" --path-include='*' --force-script-chrootless)
[ "$(id -u)" = 0 ] || dpkg_root+=(--force-not-root)
if ! "${dpkg_root[@]}" -i "$deb" >"$work/dpkg-install.log" 2>&1; then
    cat "$work/dpkg-install.log" >&2
    die "dpkg --root=$root -i failed"
fi
[ "$(dpkg-query --root="$root" -W -f='${db:Status-Abbrev}' ops)" = "ii " ] ||
    fail "ops is not 'ii' in the fresh root: $(dpkg-query --root="$root" -W -f='${db:Status-Abbrev}' ops)"
bin="$root/usr/bin/ops"
[ -x "$bin" ] || die "dpkg installed no executable $bin"
grep -q '^ops:x:[0-9]*:[0-9]*:[^:]*:/var/lib/ops:' "$root/etc/passwd" ||
    fail "the postinst created no 'ops' system account (the units' User=) in $root/etc/passwd"
[ -f "$root/usr/share/doc/ops/examples/ops.env.example" ] || fail "no ops.env.example installed"
cmp -s "$source_dir/packaging/prometheus/ops-alerts.yml" "$root/usr/share/doc/ops/examples/ops-alerts.yml" ||
    fail "/usr/share/doc/ops/examples/ops-alerts.yml is missing or differs from packaging/prometheus/ops-alerts.yml"
ok "dpkg --root installed ops into $root"

while IFS= read -r unit; do
    name=$(basename "$unit")
    cmp -s "$source_dir/packaging/systemd/$name" "$root$unit" || fail "$root$unit is missing or differs from packaging/systemd/$name"
done <"$work/units.expected"
cmp -s "$source_dir/README.md" "$root/usr/share/doc/ops/README.md" || fail "installed README.md differs"

if ! ldd "$bin" >"$work/ldd.out" 2>&1; then
    cat "$work/ldd.out" >&2
    fail "ldd $bin failed"
elif grep -q 'not found' "$work/ldd.out"; then
    grep 'not found' "$work/ldd.out" >&2
    fail "ldd: libraries of the installed binary are not found"
else
    ok "ldd finds all $(grep -c '=>' "$work/ldd.out") libraries"
fi

# The installed binary must not pick up the caller's connection settings.
run_env=(env -u DATABASE_URL -u PGHOST -u PGPORT -u PGDATABASE -u PGUSER -u PGPASSWORD -u PGSERVICE)
version_out=$("${run_env[@]}" "$bin" --version 2>&1) || fail "ops --version exited $?: $version_out"
echo "ops --version: $version_out"
expected_re="^ops ${version//./\\.} \(commit [0-9a-f]{7,40}, ${build_type} build\)$"
[[ "$version_out" =~ $expected_re ]] || fail "ops --version printed '$version_out', expected /$expected_re/"

"${admin[@]}" -c "CREATE DATABASE $database TEMPLATE ops_template" || die "cannot create database $database"
url="postgresql://postgres@127.0.0.1:$pgport/$database"
set +e
"${run_env[@]}" "$bin" --output json doctor --database-url "$url" --dir "$work/archives" \
    >"$work/doctor.out" 2>"$work/doctor.err"
doctor_rc=$?
set -e
if [ $doctor_rc -ne 0 ] || ! grep -q '"problems":0' "$work/doctor.out"; then
    cat "$work/doctor.out" "$work/doctor.err" >&2
    fail "installed ops doctor exited $doctor_rc against $database"
else
    ok "installed ops doctor exited 0 against a fresh database: $(cat "$work/doctor.out")"
fi

# Removing the package leaves none of its files behind (the system account stays in /etc, as
# Debian's policy keeps accounts whose files may outlive the package).
if ! "${dpkg_root[@]}" -P ops >"$work/dpkg-purge.log" 2>&1; then
    cat "$work/dpkg-purge.log" >&2
    fail "dpkg --root=$root -P ops failed"
fi
left=$(find "$root" \( -path "$admindir" -o -path "$root/etc" \) -prune -o -type f -print)
[ -z "$left" ] || fail "files left after purging ops: $left"

if [ $failures -gt 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "packaging: all checks passed"
