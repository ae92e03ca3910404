"""Private twins: per-author access, enforced wherever an author's writing could reach someone else.

The attack: a plain user's key asks for a restricted author's writing every way the API allows: the
author and source lists, search by text and by name, chat (its answer quotes passages), self-query
naming the author, the corrective loop re-searching with the private passage's own words, the "who are
you" reply, and conversations and feedback after access is withdrawn. Readers named on the author (or in
a named group) and staff get the same writing, which shows that it was there to be found.
"""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from apps.chat.keys import api_key_create
from apps.chat.models import Conversation, Message
from apps.documents import embedding
from apps.documents.models import Document
from apps.documents.selectors import SearchFilters, chunk_search
from apps.rag.configuration import RagConfiguration
from apps.rag.providers import Generation
from apps.rag.query_filters import filters_extract
from apps.rag.services import rag_answer
from apps.sources.models import Author
from apps.sources.selectors import authors_readable, readable_author_ids
from tests.factories import make_chunk, make_document, make_source
from tests.security.conftest import key_client

PUBLIC_TEXT = "I back up PostgreSQL every night with pg_dump from the replica and test a restore every month."
PRIVATE_TEXT = (
    "Private runbook: I back up PostgreSQL every night with pg_dump into the vault at site B; "
    "the vault passphrase is orchid-lantern-42."
)
TEAM_TEXT = "Team notes: the PostgreSQL backups of the billing cluster go to the tape library on Fridays."
SECRET = "orchid-lantern-42"
QUESTION = "How do you back up PostgreSQL every night with pg_dump?"


@pytest.fixture
def twins(django_user_model):
    """Ada (public), Grace (named readers only) and Linus (a group), each with one embedded passage."""
    reader = django_user_model.objects.create_user(username="reader", password="pw-reader-1")
    member = django_user_model.objects.create_user(username="member", password="pw-member-1")
    team = Group.objects.create(name="linus-team")
    member.groups.add(team)
    ada = Author.objects.create(name="Ada Public")
    grace = Author.objects.create(name="Grace Private", aliases=["gp"], access=Author.Access.RESTRICTED)
    grace.readers.add(reader)
    linus = Author.objects.create(name="Linus Team", access=Author.Access.RESTRICTED)
    linus.reader_groups.add(team)
    texts = {ada: PUBLIC_TEXT, grace: PRIVATE_TEXT, linus: TEAM_TEXT}
    vectors = embedding.embedder().encode(list(texts.values()))
    chunks = {}
    for (author, text), vector in zip(texts.items(), vectors, strict=True):
        source = make_source(author=author, url=f"https://{author.name.split()[0].lower()}.example/")
        document = make_document(source=source, text=text, status=Document.Status.PROCESSED, title=f"{author} notes")
        chunks[author.name] = make_chunk(
            document=document, text=text, embedding=vector, embedding_model=embedding.model_id()
        ).pk
    return {"ada": ada, "grace": grace, "linus": linus, "reader": reader, "member": member, "chunks": chunks}


def chunk_ids_of(twins, *names: str) -> set[int]:
    return {twins["chunks"][name] for name in names}


@pytest.mark.django_db
def test_the_selector_reads_public_named_and_group_authors_and_staff_all(twins, mallory, staff):
    def names(user) -> list[str]:
        return sorted(authors_readable(user=user).values_list("name", flat=True))

    assert names(mallory) == ["Ada Public"]
    assert names(twins["reader"]) == ["Ada Public", "Grace Private"]
    assert names(twins["member"]) == ["Ada Public", "Linus Team"]
    assert names(staff) == ["Ada Public", "Grace Private", "Linus Team"]
    assert readable_author_ids(user=staff) is None  # no restriction at all


@pytest.mark.django_db
def test_author_and_source_lists_show_only_readable_authors(twins, mallory):
    api = key_client(mallory)
    assert [a["name"] for a in api.get("/api/v1/authors").json()] == ["Ada Public"]
    assert [s["author"] for s in api.get("/api/v1/sources").json()] == ["Ada Public"]
    reader = key_client(twins["reader"])
    assert [s["author"] for s in reader.get("/api/v1/sources").json()] == ["Ada Public", "Grace Private"]


@pytest.mark.django_db
def test_the_lowest_search_level_enforces_readable_authors_whatever_else_is_asked(twins):
    vector = embedding.embedder().encode([QUESTION])[0]
    search = {"embedding": vector, "query_text": QUESTION, "model_id": embedding.model_id(), "k": 10}
    everything = {hit.chunk_id for hit in chunk_search(**search)}
    ada, grace = twins["ada"].pk, twins["grace"].pk
    only_ada = chunk_search(**search, filters=SearchFilters(readable_author_ids=(ada,)))
    asked_for_grace = chunk_search(**search, filters=SearchFilters(author_ids=(grace,), readable_author_ids=(ada,)))
    nothing_readable = chunk_search(**search, filters=SearchFilters(readable_author_ids=()))

    assert everything == chunk_ids_of(twins, "Ada Public", "Grace Private", "Linus Team")
    assert {hit.chunk_id for hit in only_ada} == chunk_ids_of(twins, "Ada Public")
    assert asked_for_grace == [] and nothing_readable == []


@pytest.mark.django_db
def test_self_query_answers_a_private_name_exactly_as_an_unknown_one(twins):
    readable = (twins["ada"].pk,)
    named = filters_extract(question="What did Grace Private write about backups?", readable_author_ids=readable)
    unknown = filters_extract(question="What did Nobody Here write about backups?", readable_author_ids=readable)
    assert named == unknown == {}
    explicit = filters_extract(question="backups", author="gp", readable_author_ids=readable)
    assert (
        explicit == {"unknown_author": "gp"} == filters_extract(question="backups", author="gp", readable_author_ids=())
    )
    assert filters_extract(question="backups", author="gp", readable_author_ids=None)["authors"] == ["Grace Private"]


@pytest.mark.django_db(transaction=True)
def test_search_never_returns_private_chunks_and_a_private_name_reads_as_unknown(twins, mallory):
    api = key_client(mallory)
    private_words = api.get("/api/v1/search", {"q": f"vault passphrase site B {QUESTION}", "k": 10}).json()
    naming_her = api.get("/api/v1/search", {"q": f"What did Grace Private write? {QUESTION}", "k": 10}).json()
    asked_by_name = api.get("/api/v1/search", {"q": QUESTION, "author": "Grace Private"})
    asked_unknown = api.get("/api/v1/search", {"q": QUESTION, "author": "Nobody Here"})

    for found in (private_words, naming_her):
        assert {r["chunk_id"] for r in found["results"]} == chunk_ids_of(twins, "Ada Public")
        assert "Grace" not in str(found) and SECRET not in str(found)
    assert naming_her["filters"] == {}  # nothing says a Grace exists
    assert asked_by_name.status_code == asked_unknown.status_code == 400
    assert asked_by_name.json()["error"]["message"].replace("Grace Private", "X") == asked_unknown.json()["error"][
        "message"
    ].replace("Nobody Here", "X")

    reader = key_client(twins["reader"]).get("/api/v1/search", {"q": QUESTION, "k": 10}).json()
    assert {r["chunk_id"] for r in reader["results"]} == chunk_ids_of(twins, "Ada Public", "Grace Private")


@pytest.mark.django_db(transaction=True)
def test_chat_answers_only_from_writing_the_caller_may_read(twins, mallory, settings):
    settings.RAG_ANSWER_MODE = "extract"  # the answer quotes the passages it found: any leak would show
    api = key_client(mallory)
    response = api.post("/api/v1/chat", {"message": f"{QUESTION} Tell me about the vault at site B."}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert SECRET not in body["answer"] and "vault at site B" not in body["answer"]
    assert {c["chunk_id"] for c in body["citations"]} <= chunk_ids_of(twins, "Ada Public")
    refused = api.post("/api/v1/chat", {"message": QUESTION, "author": "gp"}, format="json")
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "author"

    reader = key_client(twins["reader"])
    allowed = reader.post("/api/v1/chat", {"message": QUESTION, "author": "Grace Private"}, format="json").json()
    assert {c["chunk_id"] for c in allowed["citations"]} == chunk_ids_of(twins, "Grace Private")
    assert SECRET in allowed["answer"]


class PrivateWordsProvider:
    """Stands where the model is: every reformulation it is asked for is the private passage's own words."""

    name, model = "scripted", "scripted"

    def generate(self, messages, params):
        return Generation(text=f"Where is the vault at site B with passphrase {SECRET}?", model=self.model)

    def stream(self, messages, params):
        yield "Noted."

    def count_tokens(self, text: str) -> int:
        return len(text.split())


@pytest.mark.django_db(transaction=True)
def test_the_corrective_loop_re_searches_within_readable_authors_only(twins):
    configuration = RagConfiguration(
        provider=PrivateWordsProvider(),
        expansion="off",
        use_reranker=False,
        relevance_threshold=1.1,  # nothing is ever good enough: every corrective round runs
        corrective_rounds=2,
    )
    result = rag_answer(
        question="vault passphrase at site B?", configuration=configuration, readable_author_ids=[twins["ada"].pk]
    )

    retrieved = [span for span in result.spans if span["node"] == "retrieve"]
    assert len(retrieved) == 3  # the first search and both corrective rounds
    assert {chunk for span in retrieved for chunk in span["chunk_ids"]} == chunk_ids_of(twins, "Ada Public")
    assert SECRET not in result.answer and "Grace" not in result.answer


@pytest.mark.django_db(transaction=True)
def test_who_are_you_names_only_the_readable_authors(twins):
    configuration = RagConfiguration(provider=PrivateWordsProvider())
    answer = rag_answer(question="Who are you?", configuration=configuration, readable_author_ids=[twins["ada"].pk])
    assert "Ada Public" in answer.answer and "Grace" not in answer.answer and "Linus" not in answer.answer


@pytest.mark.django_db
def test_conversations_and_feedback_vanish_when_access_is_withdrawn(twins):
    reader = twins["reader"]
    api = key_client(reader)
    grace_document = Document.objects.get(author=twins["grace"])
    about_her = Conversation.objects.create(user=reader, title="vault", author_name="Grace Private")
    answer = Message.objects.create(conversation=about_her, role="assistant", content=PRIVATE_TEXT)
    general = Conversation.objects.create(user=reader, title="backups")
    cited = [{"n": 1, "chunk_id": twins["chunks"]["Grace Private"], "document_id": grace_document.pk}]
    quoted = Message.objects.create(conversation=general, role="assistant", content=PRIVATE_TEXT, citations=cited)
    assert len(api.get("/api/v1/conversations").json()) == 2

    twins["grace"].readers.remove(reader)

    assert [c["id"] for c in api.get("/api/v1/conversations").json()] == [str(general.pk)]
    assert api.get(f"/api/v1/conversations/{about_her.pk}").status_code == 404
    assert api.post(f"/api/v1/messages/{answer.pk}/feedback", {"rating": "up"}, format="json").status_code == 404
    shown = api.get(f"/api/v1/conversations/{general.pk}").json()["messages"]
    assert SECRET not in str(shown) and shown[0]["citations"] == []
    quoted.refresh_from_db()
    assert quoted.content == PRIVATE_TEXT  # withheld from view, not rewritten


@pytest.mark.django_db
def test_a_key_does_only_what_its_scopes_allow_and_nothing_once_expired(twins, mallory, staff):
    search_only = key_client(mallory, scopes=["search"])
    refused = search_only.post("/api/v1/chat", {"message": QUESTION}, format="json")
    assert refused.status_code == 403 and "'chat' scope" in refused.json()["error"]["message"]
    assert search_only.get("/api/v1/sources").status_code == 403
    assert search_only.get("/api/v1/conversations").status_code == 403
    assert search_only.get("/api/v1/authors").status_code == 200

    payload = {"author": "Ada Public", "url": "https://ada.example/feed/"}
    assert key_client(staff, scopes=["chat", "search", "sources"]).post("/api/v1/sources", payload).status_code == 403
    assert key_client(mallory, scopes=["staff"]).post("/api/v1/sources", payload).status_code == 403
    assert key_client(staff, scopes=["staff"]).post("/api/v1/sources", payload, format="json").status_code == 201

    api_key, key = api_key_create(user=mallory, name="soon expired")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/authors").status_code == 200
    type(api_key).objects.filter(pk=api_key.pk).update(expires_at="2000-01-01T00:00Z")
    expired = client.get("/api/v1/authors")
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]


@pytest.mark.django_db
def test_the_command_makes_narrow_expiring_keys(mallory, capsys):
    from django.core.management import CommandError, call_command

    call_command("create_api_key", "--user", "mallory", "--scopes", "search", "--expires-in-days", "30")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    api_key = mallory.api_keys.get()
    assert api_key.scopes == ["search"] and api_key.expires_at is not None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/conversations").status_code == 403
    with pytest.raises(CommandError, match="--scopes: Give at least one scope"):
        call_command("create_api_key", "--user", "mallory", "--scopes", "everything")


@pytest.mark.django_db
def test_the_admin_sets_who_reads_an_author_and_what_a_key_may_do(client, django_user_model, twins, mallory):
    from django.urls import reverse

    client.force_login(django_user_model.objects.create_superuser(username="root", password="pw-root-1"))
    page = client.get(reverse("admin:sources_author_change", args=[twins["grace"].pk]))
    assert page.status_code == 200 and "Who may talk to this twin" in page.content.decode()
    form = {"user": mallory.pk, "name": "reporting", "scopes": ["search"], "expires_at_0": "", "expires_at_1": ""}
    response = client.post(reverse("admin:chat_apikey_add"), form, follow=True)
    assert response.status_code == 200 and "shown only this once" in response.content.decode()
    api_key = mallory.api_keys.get(name="reporting")
    assert api_key.scopes == ["search"] and api_key.expires_at is None
    assert client.get(reverse("admin:chat_apikey_change", args=[api_key.pk])).status_code == 200
