"""The benchmark's ``web`` scenario (issue 14's budget): the fan-out with every user on
the WebSocket door, and the report's comparison with the same fan-out over TCP."""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks import loadgen, peers, plan, report, run
from benchmarks.loadgen import Result, Scenario, Target


def hubbub_web(data_dir: Path) -> Target:
    command = (
        f"{sys.executable} -m hubbub serve --host 127.0.0.1 --port {{port}} "
        f"--data-dir {data_dir} --server-name bench.hubbub --no-plain --no-web "
        "--web-port {web_port} --trusted 127.0.0.0/8 --log-level warning"
    )
    return Target("hubbub", command)


def test_web_fanout_delivers_to_every_other_websocket_user_and_weighs_them(
    tmp_path: Path,
) -> None:
    scenario = Scenario("web", 4, senders=2, rate=20, duration=0.5)

    result = loadgen.run(hubbub_web(tmp_path), scenario)

    assert result.scenario == "web"
    assert result.sent is not None
    assert result.sent > 0
    assert result.expected == result.sent * 3
    assert result.deliveries == result.expected
    assert result.loss == 0
    assert result.disconnects == 0
    assert result.p50_ms is not None
    assert result.cpu_s_per_m is not None
    assert result.rss_per_conn_kib is not None


def test_the_plan_runs_the_web_scenario_on_hubbubs_web_target(tmp_path: Path) -> None:
    (step,) = [s for s in plan.make_plan(False, None, run.SERVERS) if s.scenario.kind == "web"]
    targets = peers.make_targets(tmp_path, ["hubbub"])
    assert step.servers == ("hubbub",)
    assert (step.scenario.clients, step.scenario.senders, step.scenario.rate) == (1000, 10, 10)
    assert "--web-port {web_port}" in targets["hubbub-web"].command


def test_the_report_holds_a_websocket_user_to_twice_a_tcp_user() -> None:
    tcp = Result("hubbub", "fanout", 1000, cpu_s_per_m=2.0, rss_per_conn_kib=4.0)
    web = Result("hubbub", "web", 1000, cpu_s_per_m=3.0, rss_per_conn_kib=9.0)
    memory, cpu = report.web_target_lines({("fanout", "hubbub"): tcp, ("web", "hubbub"): web})
    assert "9.00 KiB (2.25 times)" in memory
    assert memory.endswith("**missed** |")
    assert "3.00 (1.50 times)" in cpu
    assert cpu.endswith("**met** |")
    assert report.web_target_lines({("fanout", "hubbub"): tcp}) == []
