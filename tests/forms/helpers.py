"""Shared YAML texts and helpers for the app-level forms tests."""

import re

from tests.conftest import csrf_from

NETWORK_V1 = """formdef: 1
key: network_check
version: 1
title: {zh: 网络设备检查, en: Network check}
category: inspection
attach_to: contract
numbering: "WL-{year}-{seq:04}"
choices:
  status:
    - {value: ok, label: {zh: 正常, en: OK}}
    - {value: degraded, label: {zh: 降级, en: Degraded}}
    - {value: down, label: {zh: 中断, en: Down}}
sections:
  - key: main
    title: {zh: 检查, en: Check}
    fields:
      - {key: device, type: text, required: true, label: {zh: 设备, en: Device}}
      - {key: status, type: select, choices: status, required: true, label: {zh: 状态, en: Status}}
      - key: cause
        type: textarea
        label: {zh: 原因, en: Cause}
        visible_if: "status != 'ok'"
        required_if: "status == 'down'"
  - key: ports
    type: repeat
    title: {zh: 端口, en: Ports}
    min: 1
    max: 10
    fields:
      - {key: port, type: text, required: true, label: {zh: 端口, en: Port}}
      - {key: errors, type: integer, min: 0, label: {zh: 错误数, en: Errors}}
computed:
  - {key: total_errors, expr: "sum(ports, 'errors')", label: {zh: 错误合计, en: Total errors}}
"""

# Compatible: a new optional field, a new choice, a changed label.
NETWORK_V2 = (NETWORK_V1.replace("version: 1", "version: 2")
              .replace("    - {value: down, label: {zh: 中断, en: Down}}\n",
                       "    - {value: down, label: {zh: 中断, en: Down}}\n"
                       "    - {value: unknown, label: {zh: 未知, en: Unknown}}\n")
              .replace("label: {zh: 设备, en: Device}}",
                       "label: {zh: 设备名称, en: Device}}\n"
                       "      - {key: location, type: text, label: {zh: 位置, en: Location}}"))

# Breaking: device renamed to device_name, choice `degraded` removed.
NETWORK_V3_NO_MIGRATION = (NETWORK_V2.replace("version: 2", "version: 3")
                           .replace("key: device,", "key: device_name,")
                           .replace("    - {value: degraded, label: {zh: 降级, en: Degraded}}\n", ""))
NETWORK_V3 = NETWORK_V3_NO_MIGRATION + """migrations:
  from: 2
  rename: {device: device_name}
  map_values: {status: {degraded: down}}
"""

VALID_NETWORK_DATA = {"device": "核心交换机", "status": "ok", "ports": [{"port": "g0/1", "errors": 2}]}


def problems_by_field(response):
    return {d["field"]: d for d in response.get_json()["error"]["details"]}


def admin_post(client, path, data, page="/admin/form-types/new"):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def page_csrf(client, path):
    return csrf_from(client.get(path).get_data(as_text=True))


def texts(html, css_class="wb-problem"):
    return re.findall(rf'class="[^"]*{css_class}[^"]*"[^>]*>(.*?)</', html, re.S)
