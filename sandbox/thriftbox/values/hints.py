"""Field name → value kind: the rules that make generated data look real.

A name is normalised once (``firstName``, ``first_name`` and ``FIRST-NAME`` all become ``first_name``, plurals
are made singular, a trailing number is dropped) and matched against an ordered table of rules. A rule names a
*value kind* ("email", "timestamp", "price", ...); :func:`candidates` returns every kind that matches, best
first, and the generator takes the first one that makes sense for the field's Thrift type, so ``i64 email``
falls through to a plain number while ``i64 commentCount`` becomes a count.

Some kinds depend on the struct a field belongs to (its *context*): ``name`` is a person's name in a ``User``,
a company name in a ``Company``, a catchy title in a ``Product``; ``title`` is a job title in a person and a
product title elsewhere; ``state`` is a US state in an address and a status elsewhere.
"""

from __future__ import annotations

import re
from functools import lru_cache

_ACRONYM_PLURAL = re.compile(r"([A-Z]{2,})s(?=[A-Z_\-\s.]|$)")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])|([A-Z]+)([A-Z][a-z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")
_IP = re.compile(r"ip(v[46])", re.IGNORECASE)


def normalize(name: str) -> str:
    """``imageURLs`` → ``image_url``, ``IPv4Address`` → ``ipv4_address``, ``addressLine2`` → ``address_line``."""
    s = _IP.sub(lambda m: "Ip" + m.group(1).lower() + "_", name)
    s = _ACRONYM_PLURAL.sub(lambda m: m.group(1) + "S", s)
    s = _CAMEL.sub(lambda m: f"{m.group(1)}_{m.group(2)}" if m.group(1) else f"{m.group(3)}_{m.group(4)}", s)
    words: list[str] = []
    for token in _SEPARATORS.split(s.lower()):
        if not token:
            continue
        if token not in _KEEP_DIGITS:  # "address1", "line 2": the number says nothing about the value
            token = token.rstrip("0123456789")
        if token:
            words.append(_singular(token))
    return "_".join(words) or name.lower()


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_KEEP_DIGITS = _words("ipv4 ipv6 sha1 sha256 sha512 md5 isbn10 isbn13 base64 utf8 e164 x509 s3 mp3 mp4 h264")
_SHORT_PLURALS = {"ids": "id", "ips": "ip", "urls": "url", "uris": "uri", "tags": "tag", "skus": "sku"}


def _singular(word: str) -> str:
    if word in _SHORT_PLURALS:
        return _SHORT_PLURALS[word]
    if len(word) <= 3 or word.endswith(("ss", "us", "is", "ics", "news", "series", "sms", "gps")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def _alt(phrases: str) -> str:
    """``"first_name given_name"`` → ``(?:first_name|given_name)``: phrases are space separated."""
    return "(?:" + "|".join(phrases.split()) + ")"


def _end(phrases: str, suffix: str = "") -> str:
    """Names that end with one of ``phrases`` (whole words): ``_end("name")`` matches ``user_name``."""
    return r"(?:^|_)" + _alt(phrases) + suffix + "$"


def _start(phrases: str) -> str:
    return "^" + _alt(phrases) + "_"


_UNIT = (
    r"(?:_(?:ms|milli|millis|msec|sec|secs|second|seconds|s|us|usec|micro|micros|ns|nano|nanos|utc|epoch))?"
)
_IMAGE = _alt(
    "avatar image img photo picture pic thumbnail thumb icon logo banner cover poster headshot artwork"
)
_PAST = (
    "at time timestamp ts datetime date_time created updated modified deleted published posted last_login "
    "last_seen last_active last_modified seen started finished completed joined registered epoch mtime ctime "
    "atime when created_on updated_on modified_on published_on posted_on deleted_on started_on ended_on"
)
_FUTURE = (
    "expire expires expiry expiration expiration_date expires_at expire_at expiry_date due due_at due_date "
    "deadline valid_until valid_to until end_at ends_at scheduled scheduled_at scheduled_for"
)
_COUNTS = (
    "count total size length len limit offset page page_size num number view like follower following click "
    "impression download share comment vote visit hit member item retry attempt byte capacity stock inventory "
    "reply repost subscriber friend result max min remaining used free available"
)

# Ordered: the first rule whose kind fits the field's type wins. Multi-word phrases use "_".
RULES: tuple[tuple[str, str], ...] = (
    # people and contact
    (_end("email email_address e_mail mail email_addr"), "email"),
    (_end("first_name given_name forename firstname middle_name"), "first_name"),
    (_end("last_name family_name surname lastname"), "last_name"),
    (
        _end(
            "full_name display_name real_name contact_name author_name owner_name customer_name fullname "
            "displayname person_name"
        ),
        "name",
    ),
    (_end("user_name username login handle nickname nick screen_name account_name user_handle"), "username"),
    (
        _end(
            "company_name company organization organisation org org_name employer vendor manufacturer publisher "
            "brand merchant agency advertiser business_name"
        ),
        "company",
    ),
    (_end("job_title job occupation profession position role_title"), "job"),
    (
        _end("phone phone_number mobile mobile_number telephone tel fax cell msisdn cell_phone phone_no"),
        "phone",
    ),
    (_start("phone"), "phone"),
    (_end("gender sex"), "gender"),
    (_end("age age_year"), "age"),
    (_end("birthday birth_date birthdate dob date_of_birth born born_at born_on"), "birthdate"),
    (_end("ssn social_security_number"), "ssn"),
    # places and networks
    (_end("ipv4 ipv4_address ip ip_address ip_addr remote_addr remote_ip client_ip"), "ipv4"),
    (_end("ipv6 ipv6_address"), "ipv6"),
    (_end("mac mac_address"), "mac"),
    (_end("city town locality city_name"), "city"),
    (_end("country_code country_iso country_iso_code iso_country"), "country_code"),
    (_end("country country_name nationality"), "country"),
    (_end("state_code province_code state_abbr state_abbreviation"), "state_abbr"),
    (_end("province region county"), "state"),
    (_end("state"), "state_or_status"),
    (_end("zip zip_code zipcode postcode postal_code post_code postalcode"), "zip"),
    (_end("latitude lat"), "latitude"),
    (_end("longitude lng lon long"), "longitude"),
    (_end("web_address website_address"), "url"),
    (
        _end(
            "street street_address address_line street_name address addr street_line mailing_address "
            "shipping_address billing_address home_address"
        ),
        "street",
    ),
    # web
    (r"(?:^|_)" + _IMAGE + r"(?:_(?:url|uri|link|src|href|location|path))?$", "image_url"),
    (
        _end(
            "url uri link href website homepage home_page site permalink callback endpoint src web_site "
            "redirect"
        ),
        "url",
    ),
    (_end("domain domain_name"), "domain"),
    (_end("host hostname host_name server server_name"), "hostname"),
    (_end("user_agent useragent ua"), "user_agent"),
    (_end("mime mime_type mimetype content_type media_type mediatype"), "mime"),
    (_end("file_name filename attachment_name"), "file_name"),
    (_end("file_path filepath path dir directory folder"), "file_path"),
    # identifiers
    (_end("uuid guid"), "uuid"),
    (_end("sku product_code item_code"), "sku"),
    (_end("isbn isbn13 isbn10"), "isbn"),
    (_end("slug url_slug"), "slug"),
    (_end("iban"), "iban"),
    (_end("credit_card card_number cc_number credit_card_number pan"), "credit_card"),
    (_end("id identifier ident key_id oid"), "id"),
    # secrets
    (_end("password passwd pwd passphrase pass"), "password"),
    (_end("hash checksum digest sha sha256 sha1 md5 etag fingerprint signature sig hmac"), "hash"),
    (
        _end(
            "token secret key api_key apikey access_key secret_key private_key nonce salt cursor page_token "
            "session_key auth"
        ),
        "token",
    ),
    # time
    (_end("timezone time_zone tz tz_name zone_id"), "timezone"),
    (
        _end(
            "duration elapsed latency timeout ttl interval delay uptime runtime run_time response_time "
            "processing_time time_spent wait wait_time backoff retry_after max_age",
            _UNIT,
        ),
        "duration",
    ),
    (
        _end("due_date due_on expiry_date expiration_date expires_on expire_on valid_until_date end_date"),
        "future_date",
    ),
    (_end(_FUTURE, _UNIT), "future_timestamp"),
    (_end(_PAST, _UNIT), "timestamp"),
    (_end("date day_date"), "date"),
    (_end("year"), "year"),
    (_end("month"), "month"),
    # money and measures
    (
        _end(
            "price amount cost fee subtotal sub_total tax balance salary revenue budget spend bid discount "
            "payment charge total_price total_amount income refund tip wage earnings cpm cpc",
            r"(?:_(?:cents|cent|micros|micro|usd|eur))?",
        ),
        "price",
    ),
    (_end("currency currency_code ccy currency_iso"), "currency"),
    (_end("rating star star_rating avg_rating average_rating"), "rating"),
    (_end("score probability prob confidence ratio relevance ctr likelihood similarity"), "score"),
    (_end("discount_percent discount_pct discount_percentage discount_rate percent_off"), "discount"),
    (_end("percent percentage pct progress"), "percent"),
    (_end("width height depth resolution"), "dimension"),
    (_end("weight distance radius mass volume area temperature temp speed"), "measure"),
    (_end("version ver app_version schema_version api_version"), "version"),
    (_end("port"), "port"),
    (_end("http_status status_code http_code response_code"), "http_status"),
    (_end("error_code err_code code"), "code"),
    (_end("quantity qty unit unit_count"), "quantity"),
    (_end(_COUNTS), "count"),
    (_start("num n total count number_of max min"), "count"),
    (_end("priority level rank ranking order index idx seq sequence step tier grade slot"), "rank"),
    # text
    (_end("title headline heading"), "title"),
    (_end("name"), "name"),
    (
        _end(
            "description desc summary bio about body text content detail overview abstract biography synopsis "
            "story review article blurb notes"
        ),
        "paragraph",
    ),
    (
        _end(
            "comment message msg note caption remark reason why error error_message feedback subject tagline "
            "slogan quote status_message explanation hint question answer greeting cause problem"
        ),
        "sentence",
    ),
    (_end("tag keyword hashtag interest skill label topic genre"), "tag"),
    (_end("category department section vertical industry segment"), "category"),
    (_end("hex_color color_hex color_code colour_code hex_colour hex"), "hex_color"),
    (_end("color colour theme_color"), "color"),
    (_end("locale culture"), "locale"),
    (_end("language lang language_code lang_code preferred_language"), "language"),
    (_end("status state_name lifecycle"), "status"),
    (_end("type kind variant mode format plan tier_name style"), "variant"),
    (_end("word term query search search_term phrase"), "words"),
)

_COMPILED = tuple((re.compile(pattern), kind) for pattern, kind in RULES)

_PERSON = _words(
    "user person people author member customer employee contact profile account owner player student patient "
    "actor artist friend staff driver teacher follower admin creator reviewer buyer seller recipient sender "
    "attendee guest candidate manager agent speaker writer editor viewer subscriber client participant "
    "passenger rider traveler traveller doctor applicant lead"
)
_ORG = _words(
    "company organization organisation org team business vendor merchant store shop brand publisher "
    "advertiser employer agency partner supplier bank school university restaurant hotel tenant workspace "
    "firm club"
)
_PLACE = _words("city place location venue region address geo destination airport station")
_PRODUCT = _words(
    "product item article book movie film song track album game course event project app application campaign "
    "ad creative listing offer deal post video podcast episode show recipe playlist collection catalog "
    "promotion story feed card widget release feature"
)
_THING = _words("tag category topic genre label skill interest keyword badge group channel")
_FILE = _words("file document attachment asset media upload blob")
_TECH = _words(
    "table column database db schema partition index queue bucket cluster service function class field "
    "namespace node pool job task metric counter key property attribute param parameter variable host server "
    "role permission scope resource stream view type procedure family"
)


def _context_kind(qualifier: str, context: str | None) -> str | None:
    """What ``name``-like fields mean in a struct (or after a qualifier: ``tableName``, ``productName``)."""
    for words in (qualifier.split("_") if qualifier else [], (context or "").split("_")):
        for word in reversed(words):
            if word in _PERSON:
                return "person"
            if word in _ORG:
                return "org"
            if word in _PLACE:
                return "place"
            if word in _PRODUCT:
                return "product"
            if word in _THING:
                return "thing"
            if word in _FILE:
                return "file"
            if word in _TECH:
                return "tech"
    return None


_NAME_BY_CONTEXT = {
    "person": "name",
    "org": "company",
    "place": "city",
    "product": "product",
    "thing": "tag_name",
    "file": "file_name",
    "tech": "identifier",
    None: "name",
}
_TITLE_BY_CONTEXT = {"person": "job"}


@lru_cache(maxsize=4096)
def candidates(name: str | None, context: str | None = None) -> tuple[str, ...]:
    """Every value kind ``name`` matches, best first; ``context`` is the enclosing struct's name."""
    if not name:
        return ()
    norm = normalize(name)
    ctx = normalize(context) if context else None
    found: list[str] = []
    for pattern, kind in _COMPILED:
        m = pattern.search(norm)
        if m is None:
            continue
        qualifier = norm[: m.start()].rstrip("_")
        if kind == "name":
            kind = _NAME_BY_CONTEXT[_context_kind(qualifier, ctx)]
        elif kind == "title":
            kind = _TITLE_BY_CONTEXT.get(str(_context_kind(qualifier, ctx)), "product")
        elif kind == "state_or_status":
            kind = "state" if _context_kind(qualifier, ctx) in ("person", "place", "org") else "status"
        if kind not in found:
            found.append(kind)
    return tuple(found)


# Booleans: how likely True is, by name. Everything else is a fair coin.
_MOSTLY_FALSE = re.compile(
    _end(
        "deleted disabled blocked banned archived deprecated spam error failed hidden locked suspended muted "
        "test draft flagged expired removed sensitive nsfw fraud bot dirty cancelled canceled stale"
    )
)
_MOSTLY_TRUE = re.compile(
    _end(
        "active enabled verified visible available public valid success successful ok confirmed published "
        "approved online healthy ready allowed in_stock accepted alive reachable"
    )
)


def true_probability(name: str | None) -> float:
    """The chance a bool named ``name`` is True: 0.1 for ``isDeleted``, 0.85 for ``isActive``, else 0.5."""
    if not name:
        return 0.5
    norm = normalize(name)
    if _MOSTLY_FALSE.search(norm):
        return 0.1
    if _MOSTLY_TRUE.search(norm):
        return 0.85
    return 0.5


def split_by(name: str | None) -> tuple[str | None, str | None]:
    """``countsByCountry`` → ("count", "country"): the value and key hints of a map field."""
    if not name:
        return None, None
    norm = normalize(name)
    for sep in ("_by_", "_per_", "_for_", "_to_"):
        if sep in norm:
            value, key = norm.rsplit(sep, 1)
            return value, key
    return norm, None
