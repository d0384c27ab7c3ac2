"""Contract tests: Profiles against the Users mock, which checks every call against the published IDL."""

from profiles import Card


def test_any_user_gets_a_card_with_a_name(profiles):
    card = profiles.card(1)  # nobody stubbed user 1: the mock answers with generated data

    assert card is not None
    assert card.handle
    assert card.name


def test_a_shared_stub_answers_for_user_42(profiles):
    assert profiles.card(42) == Card(handle="grace", name="Grace Hopper", verified=True)


def test_deleted_users_have_no_card(profiles):
    assert profiles.card(901) is None  # the shared stubs throw NotFound from 900 up


def test_a_user_without_a_name_shows_the_handle(thriftbox, profiles):
    thriftbox.stub(
        "Users", "getUser", when={"id": 7}, returns={"handle": "ghost", "firstName": "", "lastName": ""}
    )

    assert profiles.card(7).name == "ghost"


def test_a_refused_search_finds_nobody(thriftbox, profiles):
    thriftbox.stub(
        "Users", "searchUsers", throws={"InvalidRequest": {"message": "too short", "fieldName": "query"}}
    )

    assert profiles.search("a") == []


def test_search_asks_for_ten_users(thriftbox, profiles):
    handles = profiles.search("ada")

    [call] = thriftbox.calls("Users", "searchUsers")
    assert call.args == {"query": "ada", "limit": 10}
    assert handles == [user["handle"] for user in call.reply["value"]]
