"""Checks HTTP answers against an OpenAPI 3.1 document (the one the
deployment serves at /openapi.json): the path template is matched as the
edge routes (query ignored, literal segments beat {param}), the status must
be documented for the method, and a JSON body must match the response's
schema (jsonschema, Draft 2020-12, local $refs). Paths the document lacks
are checked against its x-taskapi-unmatched responses when it has them."""

import json

METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


class OpenApiDoc:
    def __init__(self, doc):
        try:
            import jsonschema
        except ImportError as e:
            raise RuntimeError("the OpenAPI check needs jsonschema (Debian: "
                               "python3-jsonschema; scripts/deps.sh installs "
                               "it)") from e
        if not isinstance(doc, dict) or not isinstance(doc.get("paths"),
                                                       dict):
            raise ValueError("not an OpenAPI document: no paths object")
        self._js = jsonschema
        self.doc = doc
        self.templates = [(t, t.strip("/").split("/"), item)
                          for t, item in doc["paths"].items()]
        self._validators = {}

    def operations(self):
        """Every (METHOD, template) the document describes."""
        return {(m.upper(), t) for t, _, item in self.templates
                for m in item if m in METHODS}

    def has(self, method, template):
        return (method.upper(), template) in self.operations()

    def resolve(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            ref = obj["$ref"]
            if not ref.startswith("#/"):
                raise ValueError("only local $refs: %r" % ref)
            obj = self.doc
            for part in ref[2:].split("/"):
                obj = obj[part.replace("~1", "/").replace("~0", "~")]
        return obj

    def match(self, path):
        p = path.split("?", 1)[0]
        if len(p) > 1 and p.endswith("/"):
            p = p[:-1]
        segs = p.strip("/").split("/")
        best, best_score = (None, None), -1
        for tpl, tsegs, item in self.templates:
            if len(tsegs) != len(segs):
                continue
            score = 0
            for t, s in zip(tsegs, segs):
                is_param = t.startswith("{") and t.endswith("}")
                if not is_param and t != s:
                    break
                if is_param and not s:
                    break
                score = score * 2 + (0 if is_param else 1)
            else:
                if score > best_score:
                    best, best_score = (tpl, item), score
        return best

    def _validator(self, pointer):
        v = self._validators.get(pointer)
        if v is None:
            root = dict(self.doc)
            root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
            root["$ref"] = "#" + pointer
            v = self._js.Draft202012Validator(
                root, format_checker=self._js.FormatChecker())
            self._validators[pointer] = v
        return v

    @staticmethod
    def _esc(key):
        return key.replace("~", "~0").replace("/", "~1")

    def problems(self, method, path, resp):
        """What is wrong with resp (an httpclient.Response) as the answer
        to method path: a list of sentences, empty when it conforms."""
        tpl, item = self.match(path)
        m = method.lower()
        unmatched = self.doc.get("x-taskapi-unmatched") or {}
        if tpl is None or m not in item:
            kind = "path" if tpl is None else "method"
            responses = unmatched.get(kind)
            if responses is None:
                return []       # the document says nothing about it
            ptr = "/x-taskapi-unmatched/" + kind
        else:
            responses = self.resolve(item[m]).get("responses", {})
            ptr = "/paths/%s/%s/responses" % (self._esc(tpl), m)
        code = str(resp.status)
        if code not in responses:
            return ["status %d is not documented (documented: %s)"
                    % (resp.status, ", ".join(sorted(responses)))]
        ref = responses[code]
        ptr += "/" + code
        while isinstance(ref, dict) and "$ref" in ref:
            ptr = ref["$ref"][1:]
            ref = self.resolve(ref)
        content = ref.get("content")
        if not content or m == "head":
            return []
        ct = (resp.headers.get("content-type") or "").split(";")[0].strip()
        key = next((k for k in content if k.lower() == ct.lower()), None)
        if key is None:
            return ["Content-Type %r, documented: %s"
                    % (ct, ", ".join(content))]
        if "schema" not in content[key]:
            return []
        try:
            body = json.loads(resp.raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            return ["body is not JSON: %s" % e]
        v = self._validator("%s/content/%s/schema" % (ptr, self._esc(key)))
        out = []
        for e in sorted(v.iter_errors(body), key=lambda e: list(e.path)):
            loc = "/".join(str(x) for x in e.absolute_path) or "(body)"
            out.append("body %s: %s" % (loc, e.message))
        return out
