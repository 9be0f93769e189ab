"""response_model: the returned value validated and filtered before it is sent."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, TypedDict

import msgspec
import pydantic
import pytest

from velocix import JSONResponse, Velocix
from velocix.core.response_model import ResponseModel, is_model
from velocix.testing import TestClient


class UserOut(msgspec.Struct):
    id: int
    name: str
    email: str | None = None
    tags: list[str] = []


class PydanticUser(pydantic.BaseModel):
    id: int
    name: str
    email: str | None = None


@dataclasses.dataclass
class DataUser:
    id: int
    name: str
    email: str | None = None


class DictUser(TypedDict):
    id: int
    name: str


ROW = {"id": 1, "name": "alice", "email": None, "password": "secret"}

app = Velocix()


@app.get("/struct", response_model=UserOut)
async def struct_user() -> dict[str, Any]:
    return dict(ROW)


@app.get("/annotation")
async def annotated_user() -> UserOut:
    return ROW  # type: ignore[return-value]  # a row the annotation's model filters


@app.get("/pydantic", response_model=PydanticUser)
async def pydantic_user() -> dict[str, Any]:
    return dict(ROW)


@app.get("/dataclass", response_model=DataUser)
async def dataclass_user() -> Any:
    return dict(ROW)


@app.get("/typeddict", response_model=DictUser)
async def typeddict_user() -> Any:
    return dict(ROW)


@app.get("/list", response_model=list[UserOut])
async def list_users() -> Any:
    return [dict(ROW), {**ROW, "id": 2, "name": "bob"}]


@app.get("/exclude-none", response_model=UserOut, response_model_exclude_none=True)
async def without_none() -> Any:
    return dict(ROW)


@app.get("/exclude-unset", response_model=UserOut, response_model_exclude_unset=True)
async def without_unset() -> Any:
    return {"id": 1, "name": "alice", "password": "x"}


@app.get("/exclude-unset-struct", response_model=UserOut, response_model_exclude_unset=True)
async def without_unset_struct() -> Any:
    return UserOut(1, "alice", tags=["a"])


@app.get("/exclude-unset-pydantic", response_model=PydanticUser, response_model_exclude_unset=True)
async def without_unset_pydantic() -> Any:
    return PydanticUser(id=1, name="alice")


@app.get("/broken", response_model=UserOut)
async def broken() -> Any:
    return {"id": "not-a-number"}


@app.get("/opt-out", response_model=None)
async def opt_out() -> UserOut:
    return ROW  # type: ignore[return-value]


@app.get("/response-object", response_model=UserOut)
async def response_object() -> Any:
    return JSONResponse(ROW)  # a Response is sent as it is


@app.get("/plain")
async def plain() -> dict[str, Any]:
    return dict(ROW)  # a plain annotation is not a model: nothing filtered


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


FILTERED = {"id": 1, "name": "alice", "email": None, "tags": []}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/struct", FILTERED),
        ("/annotation", FILTERED),
        ("/pydantic", {"id": 1, "name": "alice", "email": None}),
        ("/dataclass", {"id": 1, "name": "alice", "email": None}),
        ("/typeddict", {"id": 1, "name": "alice"}),
        ("/list", [FILTERED, {**FILTERED, "id": 2, "name": "bob"}]),
        ("/exclude-none", {"id": 1, "name": "alice", "tags": []}),
        ("/exclude-unset", {"id": 1, "name": "alice"}),
        ("/exclude-unset-struct", {"id": 1, "name": "alice", "tags": ["a"]}),
        ("/exclude-unset-pydantic", {"id": 1, "name": "alice"}),
        ("/opt-out", ROW),
        ("/response-object", ROW),
        ("/plain", ROW),
    ],
)
def test_output_is_validated_and_filtered(client: TestClient, path: str, expected: Any) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.json() == expected


def test_output_that_breaks_the_model_is_a_logged_500(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="velocix.error"):
        response = client.get("/broken")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error", "status": 500}
    assert "does not match response_model UserOut" in caplog.text


def test_a_value_already_of_the_model_type_is_encoded_as_it_is() -> None:
    model = ResponseModel(UserOut)
    assert model.exact_type is UserOut
    assert model.encode(UserOut(3, "c")) == msgspec.json.encode(UserOut(3, "c"))
    assert ResponseModel(UserOut, exclude_none=True).exact_type is not UserOut


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (UserOut, True),
        (list[UserOut], True),
        (UserOut | None, True),
        (PydanticUser, True),
        (DataUser, True),
        (DictUser, True),
        (dict[str, int], False),
        (str, False),
        (JSONResponse, False),
        (Any, False),
    ],
)
def test_which_return_annotations_are_models(annotation: Any, expected: bool) -> None:
    assert is_model(annotation) is expected


def test_misconfiguration_fails_at_registration() -> None:
    registering = Velocix()
    with pytest.raises(TypeError, match="need a response_model"):
        registering.get("/x", response_model_exclude_none=True)(plain)
    with pytest.raises(TypeError, match="not supported"):
        registering.get("/y", response_model=object())(plain)


def test_document_describes_the_model() -> None:
    with TestClient(app) as test_client:
        document = test_client.get("/openapi.json").json()
    schema = document["paths"]["/struct"]["get"]["responses"]["200"]["content"]
    assert schema["application/json"]["schema"] == {"$ref": "#/components/schemas/UserOut"}
    assert "password" not in str(document["components"]["schemas"]["UserOut"])


def test_pydantic_models_are_documented() -> None:
    with TestClient(app) as test_client:
        response = test_client.get("/openapi.json")
    assert response.status_code == 200  # a pydantic model once made the document a 500
    content = response.json()["paths"]["/pydantic"]["get"]["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/PydanticUser"}
