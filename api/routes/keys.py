"""API keys (admin): list, create (the key is shown once), revoke."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from ..deps import Admin, StoreDep
from ..schemas import ErrorOut, KeyCreated, KeyIn, KeyOut, timestamp

router = APIRouter(prefix="/v1/keys", tags=["keys"])


def _out(record, cls=KeyOut, **extra):
    return cls(id=record.id, role=record.role, label=record.label,
               created_at=timestamp(record.created_at), revoked_at=timestamp(record.revoked_at),
               **extra)


@router.get("", response_model=list[KeyOut])
def list_keys(_: Admin, store: StoreDep) -> list[KeyOut]:
    """Every key's id, role and label (never the key)."""
    return [_out(k) for k in store.list_keys()]


@router.post("", status_code=201, response_model=KeyCreated)
def create_key(body: KeyIn, _: Admin, store: StoreDep) -> KeyCreated:
    """Make a key; the response holds it once, the store keeps only its hash."""
    key, record = store.create_key(body.role, body.label)
    return _out(record, KeyCreated, key=key)


@router.delete("/{key_id}", response_model=KeyOut, responses={404: {"model": ErrorOut}})
def revoke_key(key_id: str, _: Admin, store: StoreDep) -> KeyOut:
    """Revoke a key: it stops working at once, sessions signed in with it too."""
    record = store.revoke_key(key_id)
    if record is None:
        raise HTTPException(404, detail=f"no key with id {key_id}")
    return _out(record)
