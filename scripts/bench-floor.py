#!/usr/bin/env python3
"""The floor metallab is measured against: what a user who does not use metallab would
script by hand for the same lab.

Reads a lab's plan (`metallab -o json validate FILE --plan`) only for what such a user
knows from their own drawing (names, kinds, addresses, ASNs, sessions, prefixes) and the
image of each kind, then: creates the internal network, and for every router in parallel
`docker run`s its image, writes a minimal config of its own (not metallab's) with 1 s
connect-retry timers, starts the daemon; waits until every session of every router is
Established with the peer's prefixes received where the peer announces one; removes
everything. Prints one JSON line with the phase times in seconds.

Usage: bench-floor.py PLAN.json IMAGES.json LABEL
"""

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor


def docker(*args, stdin=None, check=True):
    out = subprocess.run(
        ["docker", *args], input=stdin, capture_output=True, text=True
    )
    if check and out.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout


def frr_files(r, announces):
    lines = [
        "frr defaults traditional",
        f"hostname {r['name']}",
        "!",
        f"router bgp {r['asn']}",
        f" bgp router-id {r['router_id']}",
        " no bgp ebgp-requires-policy",
        " no bgp network import-check",
    ]
    for s in r["sessions"]:
        lines += [
            f" neighbor {s['peer_address']} remote-as {s['peer_asn']}",
            f" neighbor {s['peer_address']} timers 3 9",
            f" neighbor {s['peer_address']} timers connect 1",
        ]
    lines.append(" address-family ipv4 unicast")
    lines += [f"  network {p}" for p in announces]
    lines += [" exit-address-family", "!"]
    daemons = "bgpd=yes\nzebra=yes\nvtysh_enable=yes\nzebra_options=\"-A 127.0.0.1 -s 90000000\"\nbgpd_options=\"-A 127.0.0.1\"\n"
    return {"/etc/frr/frr.conf": "\n".join(lines) + "\n", "/etc/frr/daemons": daemons}


def bird_files(r, announces):
    text = [f"router id {r['router_id']};", "protocol device {}"]
    if announces:
        text.append(
            "protocol static { ipv4; "
            + " ".join(f"route {p} unreachable;" for p in announces)
            + " }"
        )
    for i, s in enumerate(r["sessions"]):
        text.append(
            f"protocol bgp p{i} {{ local {s['local_address']} as {r['asn']}; "
            f"neighbor {s['peer_address']} as {s['peer_asn']}; "
            "hold time 9; keepalive time 3; connect delay time 1; connect retry time 1; "
            "ipv4 { import all; export all; }; }"
        )
    return {"/etc/bird/bird.conf": "\n".join(text) + "\n"}


def gobgp_files(r, announces):
    text = [
        "[global.config]",
        f"  as = {r['asn']}",
        f'  router-id = "{r["router_id"]}"',
    ]
    for s in r["sessions"]:
        text += [
            "[[neighbors]]",
            "  [neighbors.config]",
            f'    neighbor-address = "{s["peer_address"]}"',
            f"    peer-as = {s['peer_asn']}",
            "  [neighbors.timers.config]",
            "    connect-retry = 1",
            "    hold-time = 9",
            "    keepalive-interval = 3",
        ]
    return {"/etc/gobgp/gobgpd.toml": "\n".join(text) + "\n"}


def start_script(r, announces):
    kind = r["kind"]
    if kind == "frr":
        return "/usr/lib/frr/frrinit.sh start >/dev/null"
    if kind == "bird":
        return "mkdir -p /run/bird && bird -c /etc/bird/bird.conf"
    if kind == "gobgp":
        adds = "; ".join(f"gobgp global rib add -a ipv4 {p}" for p in announces)
        return (
            "gobgpd -f /etc/gobgp/gobgpd.toml -t toml </dev/null >/tmp/gobgpd.log 2>&1 & "
            "until gobgp global >/dev/null 2>&1; do sleep 0.1; done"
            + (f"; {adds}" if adds else "")
        )
    return "true"


FILES = {"frr": frr_files, "bird": bird_files, "gobgp": gobgp_files}


def bring_up(r, image, network, label, name):
    announces = r["announce"]
    files = FILES.get(r["kind"], lambda *_: {})(r, announces)
    ip = r["interfaces"][0]["ip"]
    docker(
        "run", "-d", "--name", name, "--hostname", r["name"], "--label", label,
        "--network", network, "--ip", ip, "--init",
        "--cap-add", "NET_ADMIN", "--cap-add", "NET_RAW", "--cap-add", "SYS_ADMIN",
        image, "sleep", "infinity",
    )
    for path, text in files.items():
        docker("exec", "-i", name, "sh", "-c", f"mkdir -p $(dirname {path}) && cat > {path}", stdin=text)
    docker("exec", name, "sh", "-c", start_script(r, announces))


def established(r, name):
    """Whether every session of `r` is Established (and has received a prefix where the
    peer announces one), asked through the daemon's own CLI."""
    kind = r["kind"]
    if not r["sessions"]:
        return True
    if kind == "frr":
        out = docker("exec", name, "vtysh", "-c", "show bgp ipv4 unicast summary json", check=False)
        try:
            peers = json.loads(out).get("peers", {})
        except json.JSONDecodeError:
            return False
        return all(
            peers.get(s["peer_address"], {}).get("state") == "Established"
            and (not s["_announces"] or peers[s["peer_address"]].get("pfxRcd", 0) > 0)
            for s in r["sessions"]
        )
    if kind == "bird":
        out = docker("exec", name, "birdc", "show", "protocols", check=False)
        states = [l for l in out.splitlines() if l.startswith("p")]
        return len(states) == len(r["sessions"]) and all("Established" in l for l in states)
    if kind == "gobgp":
        out = docker("exec", name, "gobgp", "neighbor", check=False)
        rows = out.splitlines()[1:]
        return len(rows) == len(r["sessions"]) and all("Establ" in l for l in rows)
    return True


def main():
    plan = json.load(open(sys.argv[1]))
    images = json.load(open(sys.argv[2]))
    label = f"io.metallab.lab={sys.argv[3]}"
    prefix = f"{sys.argv[3]}"
    by_name = {r["name"]: r for r in plan["routers"]}
    for r in plan["routers"]:
        for s in r["sessions"]:
            peer = by_name.get(s["peer"].get("name"), {})
            s["_announces"] = bool(peer.get("announce"))
    net = plan["networks"][0]
    # Named after its subnet: a network dockerd fails to remove (see below) then does not
    # stand in the way of the next run, which gets another subnet.
    network = f"{prefix}-lan-{net['subnet'].split('.')[2]}"
    times = {}
    t0 = time.monotonic()
    docker("network", "create", "--internal", "--subnet", net["subnet"], "--label", label, network)
    try:
        with ThreadPoolExecutor(max_workers=len(plan["routers"])) as pool:
            list(pool.map(
                lambda r: bring_up(r, images[r["kind"]], network, label, f"{prefix}-{r['name']}"),
                plan["routers"],
            ))
        times["start"] = time.monotonic() - t0
        pending = list(plan["routers"])
        while pending:
            with ThreadPoolExecutor(max_workers=8) as pool:
                done = list(pool.map(lambda r: established(r, f"{prefix}-{r['name']}"), pending))
            pending = [r for r, ok in zip(pending, done) if not ok]
            if pending:
                time.sleep(0.1)
            if time.monotonic() - t0 > 600:
                raise RuntimeError(f"not Established after 600 s: {[r['name'] for r in pending]}")
        times["established"] = time.monotonic() - t0
    finally:
        t1 = time.monotonic()
        ids = docker("ps", "-aq", "--filter", f"label={label}").split()
        if ids:
            docker("rm", "-f", *ids)
        try:
            docker("network", "rm", network)
        except RuntimeError as e:
            # dockerd 20.10 at times keeps a removed container's endpoint counted (until
            # it restarts): say so, as metallab down does.
            print(f"bench-floor: {e} (restart dockerd to clear it)", file=sys.stderr)
        times["remove"] = time.monotonic() - t1
    times["total"] = time.monotonic() - t0
    print(json.dumps({k: round(v, 2) for k, v in times.items()}))


if __name__ == "__main__":
    main()
