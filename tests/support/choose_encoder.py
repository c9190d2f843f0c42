"""The reference for content negotiation: the official Python client's choose_encoder.

Reads JSON strings (Accept headers; null for none) one a line on stdin and writes, one JSON
object a line, what the reference answers ("reference": its Content-Type, or "ERROR: ..." when
it raises) and what RFC 9110 makes of it ("weighted", see below).

The reference reads no weights: it takes the first OpenMetrics (version missing or >= 1.0.0) or
text >= 1.0.0 element, whatever its q, else text 0.0.4. "weighted" is the reference applied the
way RFC 9110 §12.4.2 asks for: elements with q=0 are not acceptable, and the client's heaviest
acceptable candidates come first. It runs choose_encoder on each tier of equally weighted
elements, heaviest first; text 0.0.4 (which the reference never picks from an element, only as
its fallback) takes part with the weight of the most specific of text/plain without a version
>= 1.0.0, text/* and */* (the first of them on ties), and loses ties. The crate must equal
"weighted" everywhere, and "reference" wherever no element carries a q.
"""
import json
import re
import sys

from prometheus_client import exposition
from prometheus_client.utils import parse_version

TEXT_004 = exposition.CONTENT_TYPE_PLAIN_0_0_4
# RFC 9110 §12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
QVALUE = re.compile(r'^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$')


def weight(element):
    """The first q parameter's value; 1 if missing or malformed (then it is any parameter)."""
    for tok in element.split(';')[1:]:
        name, eq, value = tok.strip().partition('=')
        if eq and name.lower() == 'q':
            return float(value) if QVALUE.match(value) else 1.0
    return 1.0


def text_004_specificity(element):
    """How specifically the element names text 0.0.4: None if it does not."""
    toks = element.split(';')
    media = toks[0].strip().lower()
    if media == '*/*':
        return 0
    if media == 'text/*':
        return 1
    if media == 'text/plain':
        version = exposition._get_version(toks)
        if not (version and parse_version(version) >= (1, 0, 0)):
            return 2
    return None


def weighted(header):
    elements = header.split(',')
    text = None  # (specificity, weight)
    for element in elements:
        s = text_004_specificity(element)
        if s is not None and (text is None or s > text[0]):
            text = (s, weight(element))
    text_q = text[1] if text else 0.0
    tiers = {weight(e) for e in elements} | {text_q}
    for q in sorted((q for q in tiers if q > 0), reverse=True):
        tier = [e for e in elements if weight(e) == q and text_004_specificity(e) is None]
        if tier:
            _, content_type = exposition.choose_encoder(','.join(tier))
            if content_type != TEXT_004:
                return content_type
        if q == text_q:
            return TEXT_004
    return TEXT_004


for line in sys.stdin:
    header = json.loads(line)
    try:
        _, reference = exposition.choose_encoder(header)
    except Exception as e:  # the reference fails on some versions: say so
        reference = f'ERROR: {type(e).__name__}: {e}'
    try:
        spec = weighted(header or '')
    except Exception as e:
        spec = f'ERROR: {type(e).__name__}: {e}'
    print(json.dumps({'reference': reference, 'weighted': spec}))
