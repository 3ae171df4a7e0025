"""Request signing for the private APIs, checked against the exchanges' documented examples."""

from __future__ import annotations

import hashlib

import jwt
import pytest

from infrastructure.exchanges.signing import (
    BinanceSigner,
    ServerClock,
    UpbitSigner,
    encode_query,
    hmac_sha256_hex,
    mask,
    upbit_query_hash_text,
)

DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_QUERY = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000"
             "&timestamp=1499827319559")
DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
UPBIT_SECRET = "upbit-secret-" + "0123456789abcdef" * 3
OTHER_SECRET = "other-secret-" + "fedcba9876543210" * 3
DOC_ORDER = [("symbol", "LTCBTC"), ("side", "BUY"), ("type", "LIMIT"), ("timeInForce", "GTC"), ("quantity", "1"),
             ("price", "0.1")]


def test_binance_hmac_of_the_documented_query_matches_the_documented_signature() -> None:
    assert hmac_sha256_hex(DOC_SECRET, DOC_QUERY) == DOC_SIGNATURE


def test_binance_signer_builds_the_documented_query_and_signature_from_parameters() -> None:
    signed = BinanceSigner(DOC_KEY, DOC_SECRET, recv_window_ms=5000).sign(DOC_ORDER, 1499827319559)
    assert signed.query == f"{DOC_QUERY}&signature={DOC_SIGNATURE}"
    assert signed.body == ""
    assert signed.headers == {"X-MBX-APIKEY": DOC_KEY}


def test_binance_signer_can_put_the_signed_parameters_in_a_form_body() -> None:
    signed = BinanceSigner(DOC_KEY, DOC_SECRET).sign(DOC_ORDER, 1499827319559, in_body=True)
    assert signed.query == ""
    assert signed.body == f"{DOC_QUERY}&signature={DOC_SIGNATURE}"
    assert signed.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_binance_signer_refuses_a_recv_window_beyond_the_exchange_maximum() -> None:
    with pytest.raises(ValueError, match="recvWindow"):
        BinanceSigner("k", "s", recv_window_ms=60001)


def test_server_clock_takes_the_server_time_as_of_the_middle_of_the_round_trip() -> None:
    local = iter([10_000])
    clock = ServerClock(lambda: next(local))
    clock.learn(server_ms=20_050, sent_ms=9_900, received_ms=10_000)
    assert clock.offset_ms == 10_100
    assert clock.now_ms() == 20_100


def test_upbit_jwt_decodes_with_the_secret_and_carries_the_sha512_of_the_query() -> None:
    signer = UpbitSigner("access-key-0123456789", UPBIT_SECRET)
    params = {"market": "KRW-BTC", "side": "bid", "volume": "0.01", "price": "100000000", "ord_type": "limit"}
    query = encode_query(params)
    payload = jwt.decode(signer.token(params), UPBIT_SECRET, algorithms=["HS256"])
    assert query == "market=KRW-BTC&side=bid&volume=0.01&price=100000000&ord_type=limit"
    assert payload["access_key"] == "access-key-0123456789"
    assert payload["query_hash"] == hashlib.sha512(query.encode()).hexdigest()
    assert payload["query_hash_alg"] == "SHA512"


def test_upbit_arrays_are_sent_and_hashed_as_repeated_bracket_keys() -> None:
    params = {"market": "KRW-BTC", "states": ["wait", "watch"]}
    assert encode_query(params) == "market=KRW-BTC&states[]=wait&states[]=watch"
    token = UpbitSigner("ak", UPBIT_SECRET).token(params)
    expected = hashlib.sha512(b"market=KRW-BTC&states[]=wait&states[]=watch").hexdigest()
    assert jwt.decode(token, UPBIT_SECRET, algorithms=["HS256"])["query_hash"] == expected


def test_upbit_hashes_the_unquoted_text_of_values_that_need_escaping() -> None:
    params = {"identifier": "a b/c"}
    assert encode_query(params) == "identifier=a%20b%2Fc"
    assert upbit_query_hash_text(params) == "identifier=a b/c"


def test_upbit_tokens_without_parameters_have_no_query_hash_and_a_fresh_nonce_each_time() -> None:
    signer = UpbitSigner("ak", UPBIT_SECRET)
    first, second = (jwt.decode(signer.token(), UPBIT_SECRET, algorithms=["HS256"]) for _ in range(2))
    assert "query_hash" not in first
    assert first["nonce"] != second["nonce"]


def test_a_token_signed_with_another_secret_fails_verification() -> None:
    token = UpbitSigner("ak", OTHER_SECRET).token({"market": "KRW-BTC"})
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, UPBIT_SECRET, algorithms=["HS256"])


def test_signers_never_show_their_secret_or_full_key_in_repr() -> None:
    key, secret = "AKEY" + "x" * 40 + "ZZZZ", "S" * 48
    for signer in (BinanceSigner(key, secret), UpbitSigner(key, secret)):
        text = repr(signer)
        assert secret not in text and key not in text
        assert mask(key) in text
