"""Audit bundles of a run's credentials, and their verification without a server."""

from dataclasses import dataclass

from identity.credentials import (
    CREDENTIAL_TYPE,
    RUN_CREDENTIAL_TYPE,
    components_digest,
    credential_id,
    read_credential_id,
    run_credential_id,
    verify_credential,
)
from identity.did import check_did_document, did_document
from identity.errors import IdentityError, InvalidBundle
from identity.jcs import sha256_digest
from identity.jose import parse_jws
from identity.report import Report

AUDIT_FORMAT = "agentfield-audit/1"
NOT_GIVEN = object()  # input_value/output_value default: JSON null is a value to check


def build_bundle(run_id: str, credential_tokens: list[str], run_credential_token: str,
                 root_did: str, generated_at: str) -> dict:
    """Return the audit bundle of a run: its tokens, run credential and DID documents."""
    dids = [root_did]
    for token in [*credential_tokens, run_credential_token]:
        issuer = parse_jws(token).payload.get("iss")
        if issuer not in dids:
            dids.append(issuer)
    return {"format": AUDIT_FORMAT, "run_id": run_id, "generated_at": generated_at,
            "root_did": root_did, "credentials": list(credential_tokens),
            "run_credential": run_credential_token,
            "did_documents": {did: did_document(did) for did in dids}}


@dataclass
class _Source:
    kind: str
    run_id: str
    root_did: str
    tokens: list
    run_token: object
    documents: object  # a dict in a bundle, None in a vc-chain response
    rows: list | None  # the vc-chain response's credential entries
    format_ok: bool = True


@dataclass
class _Entry:
    label: str
    token: object
    vc_id: object  # read without verifying: what the run credential must list
    credential: dict | None
    error: str | None

    @property
    def subject(self) -> dict:
        return self.credential["credentialSubject"] if self.credential else {}


def _read_source(data) -> _Source:
    if not isinstance(data, dict):
        raise InvalidBundle("expected a JSON object (an audit bundle or a vc-chain response)")
    for key in ("run_id", "root_did"):
        if not isinstance(data.get(key), str):
            raise InvalidBundle(f"no string '{key}': not an audit bundle or vc-chain response")
    if not isinstance(data.get("credentials"), list) or "run_credential" not in data:
        raise InvalidBundle("no 'credentials' list and 'run_credential': "
                            "not an audit bundle or vc-chain response")
    run_id, root = data["run_id"], data["root_did"]
    if "format" in data:
        return _Source(f"audit bundle {data['format']}", run_id, root, data["credentials"],
                       data["run_credential"], data.get("did_documents"), None,
                       data["format"] == AUDIT_FORMAT)
    rows = [row if isinstance(row, dict) else {} for row in data["credentials"]]
    run = data["run_credential"]
    return _Source("vc-chain response", run_id, root, [row.get("vc_jwt") for row in rows],
                   run.get("vc_jwt") if isinstance(run, dict) else None, None, rows)


def _open(index: int, token) -> _Entry:
    vc_id = read_credential_id(token)
    try:
        credential = verify_credential(token)
    except IdentityError as exc:
        return _Entry(f"#{index + 1} {vc_id or '(unreadable)'}", token, vc_id, None,
                      f"{exc.code}: {exc}")
    execution = credential["credentialSubject"].get("execution_id")
    return _Entry(f"#{index + 1} {execution}", token, vc_id, credential, None)


def verify_bundle(data: dict, *, input_value=NOT_GIVEN, output_value=NOT_GIVEN,
                  execution_id: str | None = None, root_did: str | None = None) -> Report:
    """Verify an audit bundle or saved vc-chain response offline; return the report.

    With input_value/output_value, confirm they hash to what the credential of execution_id
    (default: the run's first root execution) records. With root_did, require that root.
    """
    source = _read_source(data)
    entries = [_open(index, token) for index, token in enumerate(source.tokens)]
    report = Report(title=f"Run {source.run_id}: {source.kind}, {len(entries)} execution "
                          f"credentials\nRoot DID (compare with the control plane's "
                          f"/api/v1/did/root): {source.root_did}")
    report.add("format", source.format_ok, source.kind if source.format_ok else
               f"{source.kind} is not {AUDIT_FORMAT}")
    _check_credentials(report, entries)
    _check_issuers(report, entries, source.rows)
    _check_documents(report, source.documents)
    _check_run_ids(report, entries, source.run_id)
    _check_links(report, entries, source.rows)
    _check_run_credential(report, source, entries, root_did)
    for name, value, field in (("input hash", input_value, "input_hash"),
                               ("output hash", output_value, "output_hash")):
        if value is not NOT_GIVEN:
            _check_data(report, name, entries, execution_id, value, field)
    return report


def _check_credentials(report: Report, entries: list[_Entry]) -> None:
    problems = [f"{e.label}: {e.error}" for e in entries if e.error]
    problems += [f"{e.label} is not an {CREDENTIAL_TYPE}" for e in entries
                 if e.credential and CREDENTIAL_TYPE not in e.credential["type"]]
    report.add_problems("credentials verify", problems,
                        f"{len(entries)} {CREDENTIAL_TYPE}s, each signed by its did:key issuer")


def _check_issuers(report: Report, entries: list[_Entry], rows: list | None) -> None:
    problems = []
    for index, e in enumerate(entries):
        if not e.credential:
            continue
        issuer = e.credential["issuer"]
        if e.subject.get("agent_did") != issuer:
            problems.append(f"{e.label} is signed by {issuer}, not by its agent "
                            f"{e.subject.get('agent_did')}")
        if rows and rows[index].get("issuer_did", issuer) != issuer:
            problems.append(f"{e.label}: the chain entry names issuer "
                            f"{rows[index].get('issuer_did')}, the credential {issuer}")
    checked = sum(1 for e in entries if e.credential)
    report.add_problems("issuers", problems,
                        f"{checked} credentials, each issued by the agent that ran it")


def _check_documents(report: Report, documents) -> None:
    if documents is None:
        report.add("did documents", True, "none in a vc-chain response (a did:key resolves "
                                          "from the DID itself)")
        return
    if not isinstance(documents, dict):
        report.add("did documents", False, "did_documents is not an object")
        return
    problems = []
    for did, document in documents.items():
        try:
            derived = check_did_document(document)
        except IdentityError as exc:
            problems.append(f"{did}: {exc}")
            continue
        if derived != did:
            problems.append(f"the document filed under {did} is that of {derived}")
    report.add_problems("did documents", problems,
                        f"{len(documents)} documents, each exactly what its did:key derives")


def _check_run_ids(report: Report, entries: list[_Entry], run_id: str) -> None:
    problems = [f"{e.label} belongs to run {e.subject.get('run_id')!r}" for e in entries
                if e.credential and run_id != e.subject.get("run_id")
                or run_id != e.subject.get("workflow_id", run_id)]
    report.add_problems("run id", problems, f"every credential is of run {run_id}")


def _check_links(report: Report, entries: list[_Entry], rows: list | None) -> None:
    problems, position = [], {}
    for index, e in enumerate(entries):
        if not e.credential:
            continue
        execution = e.subject.get("execution_id")
        if not isinstance(execution, str) or execution in position:
            problems.append(f"{e.label}: missing or repeated execution_id")
            continue
        position[execution] = index
        if e.credential.get("id") != credential_id(execution):
            problems.append(f"{e.label}: credential id is not the one its execution derives")
        row = rows[index] if rows else {}
        if row.get("execution_id", execution) != execution or row.get(
                "credential_id", e.credential.get("id")) != e.credential.get("id"):
            problems.append(f"{e.label}: the chain entry names another execution/credential")
    for index, e in enumerate(entries):
        parent = e.subject.get("parent_execution_id")
        if not e.credential or parent is None:
            continue
        if not isinstance(parent, str) or parent not in position:
            problems.append(f"{e.label} names parent {parent}, which is not in the chain")
        elif position[parent] > index:
            problems.append(f"{e.label} comes before its parent {parent}")
        if e.subject.get("parent_credential_id") != credential_id(str(parent)):
            problems.append(f"{e.label}: parent_credential_id does not name {parent}'s credential")
    report.add_problems("chain links", problems, f"{len(position)} executions; every parent "
                                                 "is present, earlier, and named by credential id")


def _check_run_credential(report: Report, source: _Source, entries: list[_Entry],
                          expected_root: str | None) -> None:
    names = ("run credential", "root", "chain complete", "components digest")
    try:
        run = verify_credential(source.run_token)
    except IdentityError as exc:
        report.add(names[0], False, f"{exc.code}: {exc}")
        for name in names[1:]:
            report.add(name, False, "cannot be checked: the run credential does not verify")
        return
    subject, run_id = run["credentialSubject"], source.run_id
    report.add_problems(names[0], [problem for bad, problem in (
        (RUN_CREDENTIAL_TYPE not in run["type"], f"not an {RUN_CREDENTIAL_TYPE}"),
        (run.get("id") != run_credential_id(run_id), f"its id is not that of run {run_id}"),
        (subject.get("run_id") != run_id or subject.get("id") != "urn:run:" + run_id,
         f"it is about run {subject.get('run_id')!r}, not {run_id}"),
    ) if bad], f"{RUN_CREDENTIAL_TYPE} of run {run_id}, signature valid")
    root_problems = [] if run["issuer"] == source.root_did else [
        f"issued by {run['issuer']}, not by the file's root_did {source.root_did}"]
    if expected_root and source.root_did != expected_root:
        root_problems.append(f"the file's root_did is not the expected {expected_root}")
    report.add_problems(names[1], root_problems, f"issued by the root {source.root_did}")
    present, listed = [e.vc_id for e in entries], subject.get("credential_ids")
    chain = []
    if not isinstance(listed, list):
        chain.append(f"credential_ids is not a list but {type(listed).__name__}")
    elif listed != present:
        missing = [i for i in listed or [] if i not in present]
        extra = [i for i in present if i not in (listed or [])]
        chain.append(f"missing from the file: {', '.join(map(str, missing))}" if missing else
                     f"not listed by the run credential: {', '.join(map(str, extra))}" if extra
                     else "the credentials are in a different order than the run credential's")
    if subject.get("credential_count") != len(present):
        chain.append(f"credential_count is {subject.get('credential_count')}, "
                     f"the file has {len(present)}")
    report.add_problems(names[2], chain,
                        f"the run credential lists exactly these {len(present)}, in order")
    tokens = [e.token if isinstance(e.token, str) else "" for e in entries]
    digest_ok = subject.get("components_digest") == components_digest(present, tokens)
    report.add(names[3], digest_ok, "recomputed over every token; matches" if digest_ok else
               "recomputed over the tokens in the file, it differs: a token was changed, "
               "added, removed or moved")


def _check_data(report: Report, name: str, entries: list[_Entry], execution_id: str | None,
                value, field: str) -> None:
    verified = [e for e in entries if e.credential]
    if execution_id is None:
        roots = [e for e in verified if e.subject.get("parent_execution_id") is None]
        execution_id = roots[0].subject.get("execution_id") if roots else None
    entry = next((e for e in verified if e.subject.get("execution_id") == execution_id), None)
    if entry is None:
        report.add(name, False, f"execution {execution_id} has no verified credential here")
        return
    try:
        digest = sha256_digest(value)
    except IdentityError as exc:
        report.add(name, False, f"the given data cannot be hashed: {exc}")
        return
    claimed = entry.subject.get(field)
    report.add(name, digest == claimed, f"{execution_id}: {digest} matches its credential"
               if digest == claimed else
               f"{execution_id}: the given data hashes to {digest}, its credential records "
               f"{claimed}")
