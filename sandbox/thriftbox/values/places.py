"""Places that hang together: a city with its region, postal code, country, time zone, locale and currency.

A struct with two or more of those fields gets them all from one place; a struct with a time zone, locale or
currency and an address inside (``User.address``) gets the address's. Places of the Faker locale's country come
three times out of four.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from thriftbox.idl.model import Kind
from thriftbox.values.fieldrng import FieldRng, mix, salt


@dataclass(frozen=True)
class Place:
    city: str
    region: str
    region_abbr: str
    postcode: str  # '#' becomes a digit
    country: str
    country_code: str
    timezone: str
    locale: str
    currency: str
    latitude: float
    longitude: float


def _places(text: str) -> tuple[Place, ...]:
    out = []
    for line in text.strip().splitlines():
        c = [p.strip() for p in line.split("|")]
        city, region, abbr, postcode, country, code, tz, locale, currency = c[:9]
        out.append(
            Place(
                city, region, abbr, postcode, country, code, tz, locale, currency, float(c[9]), float(c[10])
            )
        )
    return tuple(out)


PLACES = _places(
    """
    New York|New York|NY|100##|United States|US|America/New_York|en-US|USD|40.7128|-74.0060
    Brooklyn|New York|NY|112##|United States|US|America/New_York|en-US|USD|40.6782|-73.9442
    Boston|Massachusetts|MA|021##|United States|US|America/New_York|en-US|USD|42.3601|-71.0589
    Philadelphia|Pennsylvania|PA|191##|United States|US|America/New_York|en-US|USD|39.9526|-75.1652
    Atlanta|Georgia|GA|303##|United States|US|America/New_York|en-US|USD|33.7490|-84.3880
    Miami|Florida|FL|331##|United States|US|America/New_York|en-US|USD|25.7617|-80.1918
    Chicago|Illinois|IL|606##|United States|US|America/Chicago|en-US|USD|41.8781|-87.6298
    Austin|Texas|TX|787##|United States|US|America/Chicago|en-US|USD|30.2672|-97.7431
    Houston|Texas|TX|770##|United States|US|America/Chicago|en-US|USD|29.7604|-95.3698
    Minneapolis|Minnesota|MN|554##|United States|US|America/Chicago|en-US|USD|44.9778|-93.2650
    Denver|Colorado|CO|802##|United States|US|America/Denver|en-US|USD|39.7392|-104.9903
    Boulder|Colorado|CO|803##|United States|US|America/Denver|en-US|USD|40.0150|-105.2705
    Phoenix|Arizona|AZ|850##|United States|US|America/Phoenix|en-US|USD|33.4484|-112.0740
    Seattle|Washington|WA|981##|United States|US|America/Los_Angeles|en-US|USD|47.6062|-122.3321
    Portland|Oregon|OR|972##|United States|US|America/Los_Angeles|en-US|USD|45.5152|-122.6784
    San Francisco|California|CA|941##|United States|US|America/Los_Angeles|en-US|USD|37.7749|-122.4194
    Los Angeles|California|CA|900##|United States|US|America/Los_Angeles|en-US|USD|34.0522|-118.2437
    San Diego|California|CA|921##|United States|US|America/Los_Angeles|en-US|USD|32.7157|-117.1611
    Toronto|Ontario|ON|M5V 2T6|Canada|CA|America/Toronto|en-CA|CAD|43.6532|-79.3832
    Vancouver|British Columbia|BC|V6B 1A1|Canada|CA|America/Vancouver|en-CA|CAD|49.2827|-123.1207
    London|England|ENG|SW1A 1AA|United Kingdom|GB|Europe/London|en-GB|GBP|51.5074|-0.1278
    Manchester|England|ENG|M1 1AE|United Kingdom|GB|Europe/London|en-GB|GBP|53.4808|-2.2426
    Edinburgh|Scotland|SCT|EH1 1YZ|United Kingdom|GB|Europe/London|en-GB|GBP|55.9533|-3.1883
    Dublin|Leinster|L|D02 X285|Ireland|IE|Europe/Dublin|en-IE|EUR|53.3498|-6.2603
    Berlin|Berlin|BE|10###|Germany|DE|Europe/Berlin|de-DE|EUR|52.5200|13.4050
    Munich|Bavaria|BY|80###|Germany|DE|Europe/Berlin|de-DE|EUR|48.1351|11.5820
    Hamburg|Hamburg|HH|20###|Germany|DE|Europe/Berlin|de-DE|EUR|53.5511|9.9937
    Paris|Île-de-France|IDF|750##|France|FR|Europe/Paris|fr-FR|EUR|48.8566|2.3522
    Lyon|Auvergne-Rhône-Alpes|ARA|6900#|France|FR|Europe/Paris|fr-FR|EUR|45.7640|4.8357
    Madrid|Community of Madrid|MD|280##|Spain|ES|Europe/Madrid|es-ES|EUR|40.4168|-3.7038
    Barcelona|Catalonia|CT|080##|Spain|ES|Europe/Madrid|es-ES|EUR|41.3874|2.1686
    Rome|Lazio|LZ|001##|Italy|IT|Europe/Rome|it-IT|EUR|41.9028|12.4964
    Milan|Lombardy|LM|201##|Italy|IT|Europe/Rome|it-IT|EUR|45.4642|9.1900
    Amsterdam|North Holland|NH|10## AB|Netherlands|NL|Europe/Amsterdam|nl-NL|EUR|52.3676|4.9041
    Stockholm|Stockholm County|AB|111 ##|Sweden|SE|Europe/Stockholm|sv-SE|SEK|59.3293|18.0686
    Warsaw|Masovia|MZ|00-###|Poland|PL|Europe/Warsaw|pl-PL|PLN|52.2297|21.0122
    Zurich|Zurich|ZH|80##|Switzerland|CH|Europe/Zurich|de-CH|CHF|47.3769|8.5417
    Tokyo|Tokyo|13|100-00##|Japan|JP|Asia/Tokyo|ja-JP|JPY|35.6762|139.6503
    Osaka|Osaka|27|530-00##|Japan|JP|Asia/Tokyo|ja-JP|JPY|34.6937|135.5023
    Seoul|Seoul|11|04###|South Korea|KR|Asia/Seoul|ko-KR|KRW|37.5665|126.9780
    Shanghai|Shanghai|SH|200###|China|CN|Asia/Shanghai|zh-CN|CNY|31.2304|121.4737
    Singapore|Singapore|SG|018###|Singapore|SG|Asia/Singapore|en-SG|SGD|1.3521|103.8198
    Bangalore|Karnataka|KA|560###|India|IN|Asia/Kolkata|en-IN|INR|12.9716|77.5946
    Sydney|New South Wales|NSW|2000|Australia|AU|Australia/Sydney|en-AU|AUD|-33.8688|151.2093
    Melbourne|Victoria|VIC|3000|Australia|AU|Australia/Melbourne|en-AU|AUD|-37.8136|144.9631
    Auckland|Auckland|AUK|10##|New Zealand|NZ|Pacific/Auckland|en-NZ|NZD|-36.8485|174.7633
    São Paulo|São Paulo|SP|01###-000|Brazil|BR|America/Sao_Paulo|pt-BR|BRL|-23.5505|-46.6333
    Mexico City|Mexico City|CMX|06###|Mexico|MX|America/Mexico_City|es-MX|MXN|19.4326|-99.1332
    """
)

# value kind → the Place attribute it takes
GEO_KINDS: Mapping[str, str] = {
    "city": "city",
    "state": "region",
    "state_abbr": "region_abbr",
    "zip": "postcode",
    "country": "country",
    "country_code": "country_code",
    "timezone": "timezone",
    "locale": "locale",
    "currency": "currency",
    "latitude": "latitude",
    "longitude": "longitude",
}
_OWN = frozenset(
    ("timezone", "locale", "currency", "country", "country_code")
)  # a person's, not an address's
_BY: dict[str, dict[str, Place]] = {}
for _p in PLACES:
    for _attr in ("city", "region", "region_abbr", "country_code", "country"):
        _BY.setdefault(_attr, {}).setdefault(str(getattr(_p, _attr)).lower(), _p)

Fixer = Callable[[dict[str, Any], int, frozenset[str]], None]
FieldKinds = Mapping[str, tuple[Kind, str | None]]


def place_of(d: Mapping[str, Any], fields: Mapping[str, str]) -> Place | None:
    """The place a struct's geo fields (name → Place attribute) name: city first, then region, country."""
    for attr in ("city", "region", "region_abbr", "postcode", "country_code", "country"):
        for name, a in fields.items():
            v = d.get(name)
            if a == attr and isinstance(v, str):
                if attr == "postcode":
                    found = next((p for p in PLACES if _fits(p.postcode, v)), None)
                else:
                    found = _BY[attr].get(v.lower())
                if found is not None:
                    return found
    return None


def _fits(pattern: str, v: str) -> bool:
    return len(pattern) == len(v) and all(
        p == c or (p == "#" and c.isdigit()) for p, c in zip(pattern, v, strict=True)
    )


def place_fixer(
    kinds: FieldKinds, children: tuple[tuple[str, Mapping[str, str]], ...], locale: str
) -> Fixer | None:
    """``children``: (field, its struct's geo fields) for nested structs with geo fields (an address)."""
    fields = {
        n: GEO_KINDS[vk]
        for n, (tk, vk) in kinds.items()
        if vk is not None
        and vk in GEO_KINDS
        and (tk is Kind.STRING or (tk is Kind.DOUBLE and vk in ("latitude", "longitude")))
    }
    if len(fields) < 2 and not (children and _OWN.intersection(fields.values())):
        return None
    home = locale.split("_")[-1].upper()
    local = tuple(p for p in PLACES if p.country_code == home)

    def fix(d: dict[str, Any], seed: int, fixed: frozenset[str]) -> None:
        place = place_of(d, {n: a for n, a in fields.items() if n in fixed}) if fixed else None
        for child, geo in children:
            if place is None and (value := d.get(child)) is not None:
                place = place_of(value.__dict__, geo)
        if place is None:
            rng = FieldRng(mix(seed ^ _PLACE_SALT))
            pool = local if local and rng.random() < 0.75 else PLACES
            place = pool[int(rng.random() * len(pool))]
        rng = FieldRng(mix(seed ^ _DIGITS_SALT))
        for name, attr in fields.items():
            if name in fixed or d.get(name) is None:
                continue
            v = getattr(place, attr)
            if attr == "postcode":
                v = "".join(str(int(rng.random() * 10)) if c == "#" else c for c in v)
            elif attr in ("latitude", "longitude"):
                v = round(v + (rng.random() - 0.5) / 10, 6)
            d[name] = v

    return fix


_PLACE_SALT = salt("fix", "place")
_DIGITS_SALT = salt("fix", "postcode")
