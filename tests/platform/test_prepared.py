"""Prepared queries: the SQL written once per shape, the same rows as peewee's own query, values
only ever parameters, and builders that would give a wrong answer refused when first compiled."""

import pytest

from portal.accounts.models import Organization
from portal.accounts.models import User
from portal.prepared import Prepared
from portal.prepared import prepared
from tests.conftest import blns_strings


@prepared
def _organization_named(shape, name):
    return Organization.select().where(Organization.name == name).limit(1)


@prepared
def _users(shape, organization_id, limit, **values):
    query = User.select(User, Organization).join(Organization).where(User.organization == organization_id)
    if shape == "by_role":
        query = query.where(User.role == values["role"])
    return query.order_by(User.id).limit(limit)


def test_rows_are_those_of_the_peewee_query(app, make_user, hospital, vendor):
    engineers = [make_user("engineer") for _ in range(3)]
    make_user("manager")
    make_user("reporter")
    for limit in (1, 2, 10):
        rows = list(_users(organization_id=vendor.id, limit=limit))
        expected = list(User.select(User, Organization).join(Organization)
                        .where(User.organization == vendor.id).order_by(User.id).limit(limit))
        assert [(u.id, u.username, u.organization.name) for u in rows] == \
               [(u.id, u.username, u.organization.name) for u in expected]
    by_role = list(_users("by_role", organization_id=vendor.id, limit=10, role="engineer"))
    assert [u.id for u in by_role] == [u.id for u in engineers]
    assert list(_users(organization_id=hospital.id, limit=10))[0].organization.kind == "hospital"


def test_sql_is_written_once_per_shape(app, make_user, vendor, monkeypatch):
    make_user("engineer")
    compiles = []
    original = Prepared._compile
    monkeypatch.setattr(Prepared, "_compile", lambda self, *args: compiles.append(args[1]) or original(self, *args))
    query = Prepared(_users.build)
    for limit in range(1, 6):
        assert len(list(query(organization_id=vendor.id, limit=limit))) == 1
    assert len(list(query("by_role", organization_id=vendor.id, limit=5, role="engineer"))) == 1
    assert list(query("by_role", organization_id=vendor.id, limit=5, role="manager")) == []
    assert compiles == [None, "by_role"]
    sql = {key[1]: compiled[1] for key, compiled in query._compiled.items()}
    assert '"role" = ' in sql["by_role"] and '"role" = ' not in sql[None]


def test_the_shapes_kept_are_capped(app, make_user, vendor, monkeypatch):
    from portal import prepared as prepared_module

    make_user("engineer")
    monkeypatch.setattr(prepared_module, "MAX_SHAPES", 3)
    query = Prepared(_users.build)
    with app.app_context():
        for shape in range(10):  # e.g. a user trying every combination of list filters
            assert len(list(query(f"shape {shape}", organization_id=vendor.id, limit=5))) == 1
            assert len(query._compiled) <= 3
        assert [key[1] for key in query._compiled] == ["shape 7", "shape 8", "shape 9"]


def test_hostile_strings_are_only_ever_parameters(app):
    # every naughty string an organisation name can hold (PostgreSQL stores no NUL, names are ≤ 200)
    names = [text for text in blns_strings() if text and "\x00" not in text and len(text) <= 200]
    with app.app_context():
        created = {}
        for name in names:
            if name not in created:
                created[name] = Organization.create(name=name, kind="hospital").id
        for name, organization_id in created.items():
            found = _organization_named.first(name=name)
            assert found is not None and found.id == organization_id, name
        assert _organization_named.first(name="'; DROP TABLE organization; --") is None
        assert Organization.select().count() == len(created)


@pytest.mark.parametrize("value", [None, True, 1.5, b"bytes"])
def test_values_that_would_change_the_sql_are_refused(app, value):
    with app.app_context(), pytest.raises(TypeError, match="only ints and strings"):
        _organization_named.first(name=value)


def test_a_builder_that_drops_a_value_is_refused_before_running(app):
    @prepared
    def ignores_its_value(shape, name):
        return Organization.select().where(Organization.name == "fixed")

    @prepared
    def transforms_its_value(shape, name):
        return Organization.select().where(Organization.name == name.upper())

    with app.app_context():
        for query in (ignores_its_value, transforms_its_value):
            with pytest.raises(ValueError, match="does not carry"):
                query.first(name="x")
            assert query._compiled == {}


def test_scalar_reads_the_first_column(app, make_user, vendor):
    from peewee import fn

    make_user("engineer")
    make_user("manager")

    @prepared
    def count_of(shape, organization_id):
        return User.select(fn.COUNT(User.id)).where(User.organization == organization_id).tuples()

    with app.app_context():
        assert count_of.scalar(organization_id=vendor.id) == 2
        assert count_of.scalar(organization_id=vendor.id + 1000) == 0


def test_rows_as_stored_are_the_unconverted_tuples(app, make_user, vendor):
    from portal.db import read_raw

    users = [make_user("engineer", display_name="工程师<甲>"), make_user("manager", active=False)]

    @prepared
    def stored(shape, organization_id):
        return (User.select(*read_raw((User.id, User.username, User.display_name)), User.active.coerce(False),
                            User.created_at.coerce(False))
                .where(User.organization == organization_id).order_by(User.id).tuples())

    with app.app_context():
        rows = stored.as_stored(organization_id=vendor.id)
        models = list(User.select().where(User.organization == vendor.id).order_by(User.id))
        assert [row[:3] for row in rows] == [(u.id, u.username, u.display_name) for u in users]
        assert [row[:3] for row in rows] == [row[:3] for row in stored(organization_id=vendor.id)]
        # the flag and the time as the driver gives them: the models' values once converted
        assert [bool(row[3]) for row in rows] == [True, False] == [u.active for u in models]
        assert [User.created_at.python_value(row[4]) for row in rows] == [u.created_at for u in models]
        assert stored.as_stored(organization_id=vendor.id + 1000) == []


@prepared
def _user_or_organization(shape, user_id):
    # two shapes, two column layouts: the user with its organisation, or the organisation alone
    if shape == "organization":
        return Organization.select().join(User).where(User.id == user_id).limit(1)
    return User.select(User, Organization).join(Organization).where(User.id == user_id).limit(1)


def test_the_column_layout_is_worked_out_once_per_shape(app, make_user, hospital, vendor, monkeypatch):
    from peewee import ModelCursorWrapper
    from peewee import ModelObjectCursorWrapper

    people = [make_user("engineer", display_name="工程师<甲>"), make_user("reporter", organization=hospital)]
    expected = {person.id: User.select(User, Organization).join(Organization).where(User.id == person.id).get()
                for person in people}
    layouts = []
    for wrapper in (ModelCursorWrapper, ModelObjectCursorWrapper):
        original = wrapper.initialize
        monkeypatch.setattr(wrapper, "initialize", lambda self, original=original: layouts.append(1) or original(self))
    with app.app_context():
        assert _user_or_organization.first(user_id=-1) is None  # a first call with no row keeps a layout too
        for _ in range(3):
            for person in people:
                user = _user_or_organization.first(user_id=person.id)
                assert user.__data__ == expected[person.id].__data__ and not user.is_dirty()
                assert user.organization.__data__ == expected[person.id].organization.__data__
                organization = _user_or_organization.first("organization", user_id=person.id)
                assert organization.__data__ == expected[person.id].organization.__data__
    assert len(layouts) == 2  # one per shape, not one per execution
