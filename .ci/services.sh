#!/usr/bin/env bash
# Makes sure PostgreSQL (5432), MariaDB (3306) and Redis (6379) answer on
# 127.0.0.1: starts them if installed, installs them (Debian packages) if not;
# installs promtool (Debian package prometheus) for the metrics tests, and
# minisign and junitparser for the report tests, monitoring plugins, xmllint and tappy.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 1; done
  echo "service on port $1 did not come up" >&2; return 1
}
apt_updated=""
need_pkg() {
  if ! dpkg -s "$1" >/dev/null 2>&1; then
    [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  fi
}

if ! port_open 5432; then
  command -v pg_ctlcluster >/dev/null || need_pkg postgresql
  version=$(ls /etc/postgresql | sort -V | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port 5432
fi
if ! port_open 3306; then
  command -v mariadbd >/dev/null || need_pkg mariadb-server
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  wait_port 3306
fi
if ! port_open 6379; then
  command -v redis-server >/dev/null || need_pkg redis-server
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port 6379
fi
# The tests connect as the machines here are set up: PostgreSQL user `postgres`
# without a password over 127.0.0.1, MariaDB `root` with an empty password.
# A fresh Debian install asks for passwords; open it up for loopback only.
if ! psql -w -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -1)
  sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$(basename "$(dirname "$(dirname "$hba")")")" main reload
  sleep 1
fi
psql -w -h 127.0.0.1 -U postgres -d postgres -Atc "select 1 from pg_database where datname = 'test'" | grep -q 1 \
  || psql -w -h 127.0.0.1 -U postgres -d postgres -qc 'create database test'
if ! mariadb -h 127.0.0.1 -uroot -e 'select 1' >/dev/null 2>&1; then
  mariadb -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD(''); FLUSH PRIVILEGES;"
fi
mariadb -h 127.0.0.1 -uroot -e 'CREATE DATABASE IF NOT EXISTS test'
# promtool checks what `runbook serve` exposes (tests/integration/serve.rs).
command -v promtool >/dev/null || need_pkg prometheus --no-install-recommends
# The report tests check our signatures with the standard minisign tool and
# our JUnit XML with an independent parser.
command -v minisign >/dev/null || need_pkg minisign
python3 -c 'import junitparser' 2>/dev/null || python3 -m pip install -q junitparser \
  || python3 -m pip install -q --break-system-packages junitparser
# The fleet recipes are tested with the real Ansible, and their Kubernetes
# manifests against Kubernetes' own schemas (tests/integration/fleet_recipes.rs).
command -v ansible-playbook >/dev/null || python3 -m pip install -q ansible-core \
  || python3 -m pip install -q --break-system-packages ansible-core
command -v kubernetes-validate >/dev/null || python3 -m pip install -q kubernetes-validate \
  || python3 -m pip install -q --break-system-packages kubernetes-validate
# The nagios probe runs real monitoring plugins; the JUnit tests validate against the
# Jenkins xunit XSD with xmllint; the TAP report is read by a TAP consumer (tappy).
[ -x /usr/lib/nagios/plugins/check_dummy ] || need_pkg monitoring-plugins-basic --no-install-recommends
command -v xmllint >/dev/null || need_pkg libxml2-utils
# Active windows and snoozes are tested at chosen instants under the real faketime.
command -v faketime >/dev/null || need_pkg faketime
python3 -c 'import tap, yaml, more_itertools' 2>/dev/null || python3 -m pip install -q 'tap.py[yaml]' \
  || python3 -m pip install -q --break-system-packages 'tap.py[yaml]'
# The Jenkins xunit plugin's junit-10.xsd, which our JUnit must validate against: the
# copy pytest's source distribution (PyPI) carries for its own tests, kept outside the repo.
xsd_dir=/usr/local/share/runbook-tests
if [ ! -s "$xsd_dir/junit-10.xsd" ]; then
  tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps --no-binary :all: --dest "$tmp" 'pytest==8.3.4'
  tar -xzf "$tmp"/pytest-8.3.4.tar.gz -C "$tmp" pytest-8.3.4/testing/example_scripts/junit-10.xsd
  mkdir -p "$xsd_dir" && cp "$tmp"/pytest-8.3.4/testing/example_scripts/junit-10.xsd "$xsd_dir/"
  rm -rf "$tmp"
fi
# The real pre-commit runs our .pre-commit-hooks.yaml (tests/integration/first_hour.rs).
command -v pre-commit >/dev/null || python3 -m pip install -q pre-commit \
  || python3 -m pip install -q --break-system-packages pre-commit
command -v groff >/dev/null || need_pkg groff-base
# serve's status page is looked at in a real headless browser (tests/integration/serve_pages.rs).
command -v chromium >/dev/null || need_pkg chromium
echo "services: postgresql, mariadb and redis answer on 127.0.0.1; promtool, minisign, junitparser, ansible-core, kubernetes-validate, monitoring plugins, xmllint, tappy, junit-10.xsd, pre-commit, groff, chromium and faketime installed"
