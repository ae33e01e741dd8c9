#!/usr/bin/env python3
"""Writes the Spring Boot fixtures of this folder and what logferry must make of them.

The records below are what Spring Boot's default patterns print (see SOURCE.md): each is
the header line and, for an ERROR with a throwable, the lines %wEx / %xwEx print: an empty
line, the trace, an empty line. The expected events are written here from those records,
by hand, not by running logferry. The same records are written three ways: as the
application's own file (app.log), as Docker's json-file driver stores its stdout
(docker-app.log, one long line split into 16 KiB pieces the way the driver does), and as
containerd/CRI writes it (cri-app.log, with a P/F split). Run it from this folder.
"""
import json

ID = "3f4e6a0c2b1d5e7f9a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f"

# (lines, expected fields of the event, or None for lines that are not an event's start)
RECORDS = [
    (["2026-11-26T12:00:00.123+09:00  INFO 4242 --- [orders] [           main] "
      "c.e.orders.OrderApplication              : Started OrderApplication in 2.1 seconds "
      "(process running for 2.5)"],
     {"@timestamp": "2026-11-26T03:00:00.123Z", "log.level": "INFO", "process.pid": 4242,
      "service.name": "orders", "process.thread.name": "main",
      "log.logger": "c.e.orders.OrderApplication", "error": None, "log.flags": None}),
    # Boot 3.2+ : [application] [thread], trace joined with its %wEx empty lines
    (["2026-11-26T12:00:01.001+09:00 ERROR 4242 --- [orders] [nio-8080-exec-1] "
      "o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() for servlet "
      "[dispatcherServlet] in context with path [] threw exception [Request processing "
      "failed: java.lang.IllegalStateException: boom] with root cause",
      "",
      "java.lang.IllegalStateException: boom",
      "\tat com.example.orders.OrderController.place(OrderController.java:42) ~[classes/:na]",
      "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke("
      "DirectMethodHandleAccessor.java:103) ~[na:na]",
      "\t... 48 common frames omitted",
      ""],
     {"@timestamp": "2026-11-26T03:00:01.001Z", "log.level": "ERROR",
      "process.thread.name": "nio-8080-exec-1", "service.name": "orders",
      "log.logger": "o.a.c.c.C.[.[.[/].[dispatcherServlet]",
      "error.type": "java.lang.IllegalStateException", "error.message": "boom",
      "error.stack_trace": "java.lang.IllegalStateException: boom\n"
      "\tat com.example.orders.OrderController.place(OrderController.java:42) ~[classes/:na]\n"
      "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke("
      "DirectMethodHandleAccessor.java:103) ~[na:na]\n"
      "\t... 48 common frames omitted",
      "log.flags": ["multiline"]}),
    # correlation block (traceId-spanId)
    (["2026-11-26T12:00:01.002+09:00  WARN 4242 --- [orders] [nio-8080-exec-1] "
      "[4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7] c.e.orders.OrderController     "
      "          : retrying"],
     {"log.level": "WARN", "trace.id": "4bf92f3577b34da6a3ce929d0e0e4736",
      "span.id": "00f067aa0ba902b7", "log.message": "retrying", "error": None}),
    # an empty line that is not around a trace stays an event of its own, as before
    ([""], {"message": "", "tags": ["parse_failure"]}),
    # Boot 3.4+/4.x (same layout), nested causes, Suppressed:, "... N more"
    (["2026-11-26T12:00:02.000+09:00 ERROR 4242 --- [orders] [nio-8080-exec-2] "
      "c.e.orders.PaymentClient                 : payment failed",
      "",
      "org.springframework.web.client.ResourceAccessException: I/O error on POST request for "
      "\"http://pay/\": Connection refused",
      "\tat org.springframework.web.client.RestTemplate.doExecute(RestTemplate.java:915)",
      "\tSuppressed: java.lang.IllegalArgumentException: cleanup",
      "\t\tat com.example.orders.PaymentClient.close(PaymentClient.java:77)",
      "Caused by: java.net.ConnectException: Connection refused",
      "\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)",
      "\t... 12 more",
      ""],
     {"log.level": "ERROR", "log.message": "payment failed",
      "error.type": "org.springframework.web.client.ResourceAccessException",
      "error.message": "I/O error on POST request for \"http://pay/\": Connection refused",
      "log.flags": ["multiline"]}),
    # Boot 2.x layout, an exception without a message
    (["2026-11-26 12:00:03.000 ERROR 4243 --- [nio-8080-exec-3] "
      "c.e.legacy.LegacyController              : v2 layout",
      "",
      "java.lang.NullPointerException",
      "\tat com.example.legacy.LegacyController.get(LegacyController.java:10)",
      ""],
     {"log.level": "ERROR", "process.pid": 4243, "process.thread.name": "nio-8080-exec-3",
      "error.type": "java.lang.NullPointerException", "error.message": None,
      "error.stack_trace": "java.lang.NullPointerException\n"
      "\tat com.example.legacy.LegacyController.get(LegacyController.java:10)"}),
    # Log4j2 with Boot's %xwEx: packaging data after frames; Wrapped by: (%rEx)
    (["2026-11-26T12:00:04.000+09:00 ERROR 4244 --- [           main] "
      "o.s.boot.SpringApplication               : Application run failed",
      "",
      "java.net.ConnectException: Connection refused",
      "\tat sun.nio.ch.Net.connect0(Native Method) ~[?:?]",
      "Wrapped by: java.lang.IllegalStateException: Failed to execute CommandLineRunner",
      "\tat org.springframework.boot.SpringApplication.callRunner(SpringApplication.java:798) "
      "~[spring-boot-3.2.0.jar:3.2.0]",
      ""],
     {"log.level": "ERROR", "process.thread.name": "main",
      "log.logger": "o.s.boot.SpringApplication",
      "error.type": "java.net.ConnectException", "error.message": "Connection refused"}),
    (["2026-11-26T12:00:05.000+09:00  INFO 4242 --- [orders] [ionShutdownHook] "
      "c.e.orders.OrderApplication              : bye"],
     {"log.message": "bye", "error": None}),
]


def write(name, runtime_lines, extra):
    """runtime_lines: list per record of (list of file lines); offsets from the file."""
    off = 0
    with open(name, "w", newline="\n") as f, open(name + "-expected.ndjson", "w") as e:
        for (lines, want), rl in zip(RECORDS, runtime_lines):
            exp = dict(want)
            exp["log.offset"] = off
            if want.get("message") is None and "message" not in want:
                exp["message"] = "\n".join(l for l in lines[:-1] if True) if lines[-1] == "" and len(lines) > 1 else "\n".join(lines)
            exp.update(extra)
            e.write(json.dumps(exp) + "\n")
            for l in rl:
                f.write(l + "\n")
                off += len(l.encode()) + 1


def docker(text, stream="stdout", t="2026-11-26T03:00:00.5Z", final=True):
    return json.dumps({"log": text + ("\n" if final else ""), "stream": stream, "time": t},
                      separators=(",", ":"))


write("app.log", [r[0] for r in RECORDS], {})

dk = []
for i, (lines, _) in enumerate(RECORDS):
    out = []
    for l in lines:
        if i == 0:  # the driver's 16 KiB split, here at 40 bytes: rejoined
            out += [docker(l[:40], final=False), docker(l[40:])]
        else:
            out.append(docker(l))
    dk.append(out)
write("docker-app.log", dk, {"stream": "stdout", "container.id": ID})

cri = []
for i, (lines, _) in enumerate(RECORDS):
    out = []
    for l in lines:
        if i == 2:
            out += ["2026-11-26T03:00:00.500000000Z stdout P " + l[:30],
                    "2026-11-26T03:00:00.500000001Z stdout F " + l[30:]]
        else:
            out.append("2026-11-26T03:00:00.500000000Z stdout F " + l)
    cri.append(out)
write("cri-app.log", cri, {"stream": "stdout", "kubernetes.pod.name": "orders-7d9f8b6c5-x2x9q",
                           "kubernetes.namespace": "shop", "container.name": "orders",
                           "container.id": ID})
