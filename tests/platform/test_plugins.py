"""The plugin loader and the reference plugin."""

import pytest
from click.testing import CliRunner

from portal.cli import main
from portal.plugins import Plugin
from portal.plugins import PluginContext
from portal.plugins import PluginError
from portal.registry import DuplicateName
from tests.conftest import log_in


def test_example_plugin_adds_a_page_a_receiver_and_a_command(make_app, make_user):
    app = make_app(PLUGINS="example")
    assert "example" in app.extensions["weibao"].registry("plugin")
    user = make_user("reporter")
    client = app.test_client()
    log_in(client, user.username)
    page = client.get("/admin/example/").get_data(as_text=True)
    assert "示例插件" in page
    assert '<span id="seen-count">1</span>' in page
    assert app.extensions["weibao"].plugin_data["example"] == [user.username]


def test_plugins_are_not_loaded_unless_enabled(app):
    assert "example" not in app.extensions["weibao"].registry("plugin")
    assert app.test_client().get("/admin/example/").status_code == 404


def test_unknown_plugin_stops_start_up(make_app):
    with pytest.raises(PluginError, match="unknown plugin 'nosuch'"):
        make_app(PLUGINS="nosuch")


def test_duplicate_plugin_stops_start_up(make_app):
    with pytest.raises(PluginError, match="listed twice"):
        make_app(PLUGINS="example,example")


def test_builtin_name_cannot_be_enabled_again(make_app):
    with pytest.raises(PluginError, match="clashes with a built-in"):
        make_app(PLUGINS="accounts")


def test_registries_refuse_duplicate_names(app):
    ctx = PluginContext(app=app, plugin=Plugin(name="probe", setup=lambda ctx: None))
    ctx.add_resource("probe", {})
    with pytest.raises(DuplicateName):
        ctx.add_resource("probe", {})


def test_unknown_signal_name_is_refused(app):
    ctx = PluginContext(app=app, plugin=Plugin(name="probe", setup=lambda ctx: None))
    with pytest.raises(KeyError, match="unknown signal"):
        ctx.connect("no_such_signal", lambda sender, **kw: None)


def test_plugin_cli_command_is_reachable(tmp_path, monkeypatch):
    monkeypatch.setenv("WEIBAO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("WEIBAO_PLUGINS", "example")
    result = CliRunner().invoke(main, ["example-hello"])
    assert result.exit_code == 0, result.output
    assert "hello from the example plugin" in result.output


def test_signal_receivers_are_per_app(make_app, make_user):
    with_plugin = make_app(PLUGINS="example")
    without = make_app()
    user = make_user("engineer")
    log_in(without.test_client(), user.username)
    assert with_plugin.extensions["weibao"].plugin_data.get("example", []) == []
