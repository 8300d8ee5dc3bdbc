"""The model builder's output, pinned: the same variables, rows, coefficients, bounds, objective
and row meanings as when these digests were taken, for stand-alone, coupled, neighbourhood
(units held) and elastic models of the bundled examples and the benchmark generator's families.

A faster builder must build exactly the same model, so this compares a canonical form (every
variable with its bounds and kind, every row with its family, sense, right-hand side, meaning and
sorted terms, the objective, and the builder's variable maps) digested per part, so a failure says
which part moved. A change to the model made on purpose changes these digests: print the new ones
with `python -m tests.test_model_same_model` and say in the commit why the model changed.
"""

from __future__ import annotations

import hashlib
import sys
from collections import defaultdict
from collections.abc import Iterator
from functools import cache

import pulp
import pytest

from benchmarks.generate import InstanceConfig, build_instance
from planner.catalog import Catalog, load_catalog
from planner.model.build import BuildOptions, BuiltModel, build_model
from planner.model.candidates import Candidates, build_candidates, prune_dominated
from planner.spec import load_spec
from tests.conftest import EXAMPLES


def _num(x: float | None) -> str:
    # 12 significant digits: the same model whatever order a sum was taken in
    return "None" if x is None else f"{float(x):.12g}"


def canonical(built: BuiltModel) -> dict[str, list[str]]:
    """The built model as sorted lines, grouped into parts: `variables`, `objective`, `maps`, and
    one part per row family."""
    parts: dict[str, list[str]] = defaultdict(list)
    for v in built.prob.variables():
        parts["variables"].append(f"{v.name} {v.cat} {_num(v.lowBound)} {_num(v.upBound)}")
    objective = built.prob.objective or pulp.LpAffineExpression()
    parts["objective"] = [f"{v.name} {_num(c)}" for v, c in objective.items()]
    parts["objective"].append(f"constant {_num(objective.constant)}")
    # `add` records each row as it adds it to the problem, so the two are in the same order
    for row, (name, con) in zip(built.rows, built.prob.constraints.items(), strict=True):
        terms = " ".join(sorted(f"{v.name}:{_num(c)}" for v, c in con.items()))
        meaning = sorted((k, repr(val)) for k, val in row.meta.items())
        parts[f"rows:{row.family}"].append(
            f"{name} {row.name} {con.sense} {_num(-con.constant)} {meaning} {terms}"
        )
    maps = parts["maps"]
    maps += [f"n {i} {v.name}" for i, v in built.n.items()]
    for label, table in (("u", built.u), ("z", built.z), ("h", built.h), ("b", built.b)):
        maps += [f"{label} {key} {v.name}" for key, v in table.items()]
    maps += [f"p {s} {r} {v.name}" for s, by in built.p.items() for r, v in by.items()]
    maps += [
        f"egress {v.name} {_num(price)} {sorted(meta.items())}" for v, price, meta in built.egress
    ]
    maps += [f"slack {v.name} {row.name}" for v, row in built.slacks]
    return {k: sorted(v) for k, v in parts.items()}


def digests(built: BuiltModel) -> dict[str, str]:
    return {
        part: hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
        for part, lines in sorted(canonical(built).items())
    }


@cache
def _shipped() -> Catalog:
    return load_catalog()


@cache
def _example(name: str) -> tuple[Candidates, Catalog]:
    cat = _shipped()
    return build_candidates(load_spec(EXAMPLES / f"{name}.yaml"), cat), cat


@cache
def _bench(family: str, services: int) -> tuple[Candidates, Catalog]:
    cat, spec = build_instance(InstanceConfig(services, 1, family), _shipped())
    return build_candidates(spec, cat), cat


def _held(cands: Candidates, services: list[str]) -> dict[int, int]:
    """One unit on each of the first three rows of `services`: a neighbourhood re-solve's
    partners, held."""
    return {int(cands.offers.index[p]): 1 for s in services for p in cands.rows_of[s][:3]}


def cases() -> Iterator[tuple[str, BuiltModel]]:
    """Every model pinned below, by a name that says how it was built."""
    alone = BuildOptions(couple=False)
    for name in ("kr-ecommerce", "global-saas", "hybrid-dr", "zone-db-latency", "provider-saas"):
        cands, cat = _example(name)
        for s in cands.services()[:4]:
            yield f"{name}/alone/{s}", build_model(cands.restrict([s]), cat, alone)
        yield f"{name}/coupled", build_model(cands, cat, BuildOptions(couple=True))
    for family in ("region", "provider", "zone", "private", "users", "mix"):
        cands, cat = _bench(family, 12)
        services = cands.services()
        pruned = prune_dominated(cands)
        for s in services[:: max(1, len(services) // 4)]:
            yield f"{family}/alone/{s}", build_model(pruned.restrict([s]), cat, alone)
        yield f"{family}/coupled", build_model(cands, cat, BuildOptions(couple=True))
        block = services[:4]
        sub = cands.restrict(block)
        held = BuildOptions(couple=True, fixed_units=_held(sub, block[2:]))
        yield f"{family}/held", build_model(sub, cat, held)
    cands, cat = _example("hybrid-dr")
    yield "hybrid-dr/elastic", build_model(cands, cat, BuildOptions(couple=True, elastic=True))
    cands, cat = _bench("mix", 12)
    yield (
        "mix/group",
        build_model(
            cands.restrict(cands.services()[:3]),
            cat,
            BuildOptions(
                omit=frozenset({"egress", "max_providers", "budget"}),
                service_floor={s: 100.0 for s in cands.services()[:3]},
            ),
        ),
    )


# Taken from the builder of commit e84a6b0, then changed on purpose: managed storage needs a managed
# instance of its own category in its region (rule 2; the `linking` rows and `variables` of models
# with database services whose tiers allow machines too); and the late binaries of callers after a
# zone failure and of single writers with multi-writer offerings renamed `c_k` and `sw_k`, apart
# from the backup copies' `b_k` and the providers' `w_k` (tests/test_model_names.py).
PINNED: dict[str, dict[str, str]] = {
    "kr-ecommerce/alone/storefront": {
        "maps": "662469783eb862a3",
        "objective": "a241eea5f1b410e1",
        "rows:demand": "ff88615518c36184",
        "rows:internet": "cebc67a2f9127421",
        "rows:linking": "f1b9a25fa582c4c5",
        "rows:max_regions": "a76f3597e8a3e519",
        "rows:private_capacity": "8b7e580235f3a5a1",
        "rows:survival": "a7e3e34ccfa5332b",
        "rows:survival_cut": "f30f4663cad5129a",
        "rows:user_latency": "4713f3b1e8b4da5b",
        "variables": "85a95a7bdab29f73",
    },
    "kr-ecommerce/alone/orders-api": {
        "maps": "dcc8d6887e54e34c",
        "objective": "21241b5c63735a53",
        "rows:demand": "593724da1987af12",
        "rows:linking": "60ab84e97bd32529",
        "rows:max_regions": "a129f21bc135be98",
        "rows:private_capacity": "a5e325cfb3ace4dd",
        "rows:strategy": "64921b0bea2da088",
        "rows:survival": "548803ca54683d22",
        "rows:survival_cut": "36d2b9bf70c41e8a",
        "variables": "7515adc6ff20f142",
    },
    "kr-ecommerce/alone/orders-db": {
        "maps": "1d116aa356686b3a",
        "objective": "240c42861ca46182",
        "rows:demand": "9a989bbdeae4ade6",
        "rows:linking": "40ab2cf60b60ac3a",
        "rows:max_regions": "db25c389cf80bc22",
        "rows:private_capacity": "4adb579e10a97d28",
        "rows:replication": "85c4677f6eb31d9c",
        "rows:single_writer": "db0eaf4c764f2231",
        "rows:survival": "23a2229b42df8e95",
        "rows:survival_cut": "5aecf0311211daca",
        "variables": "25d9a411458efced",
    },
    "kr-ecommerce/alone/product-images": {
        "maps": "ee2ea24d159e59ab",
        "objective": "3c2bddc1a5d32783",
        "rows:demand": "848e02fe1daa0dd0",
        "rows:internet": "0be885fd4c8bbc1a",
        "rows:linking": "ecc89ee2c0aec88b",
        "rows:max_regions": "0730bbbe767bde69",
        "rows:strategy": "418707706593439a",
        "rows:survival": "9b83516147f8fa8e",
        "rows:survival_cut": "371ed3f218e29a5c",
        "variables": "b8a84988c18e145f",
    },
    "kr-ecommerce/coupled": {
        "maps": "1027ac263378cc01",
        "objective": "f03b381ab4083c36",
        "rows:budget": "5d34b25dba75761a",
        "rows:demand": "4adf527156a8173b",
        "rows:dependency_latency": "1d1b8f74dc7a9857",
        "rows:egress": "2b83a2c261b199ee",
        "rows:internet": "ccdc19d890c1a6e5",
        "rows:linking": "227759bee533b40d",
        "rows:max_providers": "49d2076a3ccdd5d7",
        "rows:max_regions": "2757643283d53bde",
        "rows:private_capacity": "afd796dd5bbe8287",
        "rows:replication": "1313c5952ffb0234",
        "rows:single_writer": "0e1dce15087c65da",
        "rows:strategy": "1f91e1da97f39c47",
        "rows:survival": "baae0c9fbf0b2cd9",
        "rows:survival_cut": "2bb066493b0a2327",
        "rows:user_latency": "a1940a1cf1fb9079",
        "variables": "ee125139282ab06b",
    },
    "global-saas/alone/web": {
        "maps": "8cef0d76ab90fa66",
        "objective": "82fd0a1e916812fb",
        "rows:demand": "36c31074a6589d6d",
        "rows:internet": "566f6acce296b468",
        "rows:linking": "736142c0486b6848",
        "rows:max_regions": "d1a19e8b6394b3f6",
        "rows:private_capacity": "f5325c0aa58da0f6",
        "rows:survival": "54ef90ccc778fc38",
        "rows:survival_cut": "e8276dc881c55b3a",
        "rows:user_latency": "a275e4fa52b52d9b",
        "rows:user_share": "5dbcf5537537d4ba",
        "variables": "f14178b36d731814",
    },
    "global-saas/alone/api": {
        "maps": "8f920411b3b0c1ad",
        "objective": "7b8cd694ff68b0f5",
        "rows:demand": "43645cc12fcf5eb0",
        "rows:linking": "0ac39ddc83a9957d",
        "rows:max_regions": "bd274adc9a769aea",
        "rows:private_capacity": "107ddb27267e72db",
        "rows:survival": "34cbd89e9c45f00f",
        "rows:survival_cut": "9d5835671a9b3de1",
        "variables": "40d1aec42cfa06b1",
    },
    "global-saas/alone/db": {
        "maps": "2dd16d6e10d384b0",
        "objective": "e4c348eb2ae2d380",
        "rows:demand": "64cc6b1c9b7b9491",
        "rows:linking": "55a7ddf8edd07d5a",
        "rows:max_regions": "d007b68dcca7a619",
        "rows:replication": "08f6590fd4551d66",
        "rows:single_writer": "9f380550e46d6745",
        "rows:survival": "6e47aed91d9d4f4e",
        "rows:survival_cut": "57f3a69577f15fa0",
        "variables": "8c592bbb858561e9",
    },
    "global-saas/alone/assets": {
        "maps": "1793018d9cbc8c4d",
        "objective": "4646e39455ff7698",
        "rows:demand": "7a53697bb1c08070",
        "rows:internet": "a10957dfb70bb11d",
        "rows:linking": "96f51f98f565ac74",
        "rows:max_regions": "fa1c9f73f72de10e",
        "rows:survival": "61afa05334736945",
        "rows:survival_cut": "38f7f58e5dba90b9",
        "variables": "eaf8c9c205ea1920",
    },
    "global-saas/coupled": {
        "maps": "d2602068e2977e52",
        "objective": "27d573562c6d8d9c",
        "rows:demand": "40308a34a84c9a97",
        "rows:egress": "305e6b45311537e8",
        "rows:internet": "4991ab5c96aa0ab1",
        "rows:linking": "1124af87ac82c5ae",
        "rows:max_providers": "4c0fa6b1ab5eefe0",
        "rows:max_regions": "469ca9d39485444e",
        "rows:private_capacity": "5838830ef752dfc5",
        "rows:replication": "23ea70e3940f9fc1",
        "rows:single_writer": "35b81e4b0f5c7605",
        "rows:survival": "8fe44f17e4f23a18",
        "rows:survival_cut": "13e27def7716c185",
        "rows:user_latency": "02d4a3f5bb08276d",
        "rows:user_share": "5dbcf5537537d4ba",
        "variables": "0d139d254308fcc8",
    },
    "hybrid-dr/alone/erp-app": {
        "maps": "b773aa3ebe443df7",
        "objective": "d8a5fed858eac29a",
        "rows:demand": "0c0477733e4aec7e",
        "rows:internet": "f0974a92f7e2aead",
        "rows:linking": "9700788cb582cf10",
        "rows:max_regions": "b8672aa128651d63",
        "rows:private_capacity": "572e58f4a0f9d6b7",
        "rows:survival": "abdc08a609c6a799",
        "rows:survival_cut": "b60f9beb7e34f3b0",
        "rows:user_latency": "63ccaed3251d0fd5",
        "variables": "8009d79eb9cc8fab",
    },
    "hybrid-dr/alone/erp-db": {
        "maps": "25e13cccbbea45f2",
        "objective": "627c81e620a869ba",
        "rows:demand": "855959cb66ce5e72",
        "rows:linking": "3611245499667bde",
        "rows:max_regions": "cf40d8b0ec3b1182",
        "rows:private_capacity": "c31f3128c78062f6",
        "rows:replication": "21b345376e7bc040",
        "rows:single_writer": "2e30ff3d5ede9873",
        "rows:survival": "ec9aa1129906e582",
        "rows:survival_cut": "69c257c095fc75a9",
        "variables": "e71474a9987aaa62",
    },
    "hybrid-dr/coupled": {
        "maps": "e484147ec2e5b863",
        "objective": "81ece53218770a32",
        "rows:demand": "1fa7d7d4fc5ebf99",
        "rows:dependency_latency": "7df60db0ad651af7",
        "rows:egress": "d1d47a8852352814",
        "rows:internet": "f0974a92f7e2aead",
        "rows:linking": "7a306b0306f48ce9",
        "rows:max_regions": "14c1f9bef3889488",
        "rows:private_capacity": "83f577127a0b952d",
        "rows:replication": "02ed6cdfc333fd83",
        "rows:single_writer": "8223055cb9244189",
        "rows:survival": "ab63771b732e31f1",
        "rows:survival_cut": "a8870dbc1c92fac4",
        "rows:user_latency": "63ccaed3251d0fd5",
        "variables": "5c15789cf3190dfb",
    },
    "zone-db-latency/alone/order-api": {
        "maps": "d355c4387e4457fb",
        "objective": "fff2c1efc67dd6cc",
        "rows:demand": "2d8c245f14a217fc",
        "rows:internet": "58cdc5df15cbed51",
        "rows:linking": "d8d39638a539e2f3",
        "rows:max_regions": "1649389dc73b9965",
        "rows:private_capacity": "743fa2f883fb0e16",
        "rows:survival": "68fc280fb9961356",
        "rows:user_latency": "3ba115fb1d270195",
        "variables": "687128eca3db0b84",
    },
    "zone-db-latency/alone/session-cache": {
        "maps": "1a6890444d4a80fd",
        "objective": "ed7ea11d0cd8cb9c",
        "rows:demand": "56b2b3c5e06d30bb",
        "rows:linking": "6e49e6a595800913",
        "rows:single_writer": "8c3b1964dda05518",
        "rows:survival": "c50b08532675a9f1",
        "variables": "189bc865e4aedae8",
    },
    "zone-db-latency/alone/ledger-db": {
        "maps": "276faf79cd61a561",
        "objective": "fa3e774068c49a1c",
        "rows:demand": "d9c397008d29915d",
        "rows:linking": "e7528d7f533b5041",
        "rows:max_regions": "b75583b20950f0c8",
        "rows:replication": "a8a8509b108f2d37",
        "rows:single_writer": "f06bf08b56e29b99",
        "rows:survival": "c32b0c7ae411ad50",
        "variables": "6a9278edf63d5871",
    },
    "zone-db-latency/coupled": {
        "maps": "120f42351e9c8f78",
        "objective": "27e07544012a83a5",
        "rows:demand": "496939c0d8d5a156",
        "rows:dependency_latency": "b91ac40e8536edb3",
        "rows:egress": "42d563118fbabfdd",
        "rows:internet": "58cdc5df15cbed51",
        "rows:linking": "6eb4a54c0f2fdca0",
        "rows:max_regions": "10135e8c0839c548",
        "rows:private_capacity": "743fa2f883fb0e16",
        "rows:replication": "257f70034856b60f",
        "rows:single_writer": "95a19735a90087a4",
        "rows:survival": "c786a618c66e794d",
        "rows:user_latency": "ec038a9a18952560",
        "variables": "76a3415820258078",
    },
    "provider-saas/alone/web": {
        "maps": "f5919f8257f3a775",
        "objective": "b9af3a9fff387759",
        "rows:demand": "053ecd3580c18112",
        "rows:internet": "e119c4166e7f84ef",
        "rows:linking": "f6ec2ee48b3c4d7b",
        "rows:max_regions": "318ffdab05e06f61",
        "rows:private_capacity": "3bf29a3c44b6549d",
        "rows:survival": "5d4c23d216af3aca",
        "rows:survival_cut": "371be5fdf78dc92c",
        "rows:user_latency": "b81287278f73dba7",
        "variables": "c933dc3ac8a4e79d",
    },
    "provider-saas/alone/app-db": {
        "maps": "2c0dd76fb7cccade",
        "objective": "fa3e774068c49a1c",
        "rows:demand": "d2e0d76a851a99e0",
        "rows:linking": "7ffe0b0f8f9b56ad",
        "rows:max_regions": "28c9d9e83fdf7514",
        "rows:replication": "efead77b85f5841e",
        "rows:single_writer": "3505194971b36671",
        "rows:survival": "0907b0d07f5b4a85",
        "rows:survival_cut": "c7f9ef86ebcd6625",
        "variables": "94be3a507bf05d8a",
    },
    "provider-saas/alone/sso": {
        "maps": "9ffd0b03429a2423",
        "objective": "1021922ea88e2e90",
        "rows:demand": "4c06d9a83af710bb",
        "rows:linking": "849e73899c662683",
        "rows:max_regions": "438f4cf92df80853",
        "rows:survival": "ed12b95189472dc9",
        "rows:survival_cut": "52b3cdf09bc3fd3c",
        "variables": "ca69885124dac461",
    },
    "provider-saas/coupled": {
        "maps": "251a3e207baff5f8",
        "objective": "c8f5502746900dd1",
        "rows:demand": "09bb3b6f8777a456",
        "rows:dependency_latency": "d66a1afc5a27d2f5",
        "rows:egress": "6163927e9cfaa03c",
        "rows:internet": "e119c4166e7f84ef",
        "rows:linking": "47bfe3627f8fb8f7",
        "rows:max_providers": "185ec6dbce6c0135",
        "rows:max_regions": "2d150db2c26b48fa",
        "rows:private_capacity": "3bf29a3c44b6549d",
        "rows:replication": "efead77b85f5841e",
        "rows:single_writer": "3505194971b36671",
        "rows:survival": "22638f2622e44209",
        "rows:survival_cut": "1a6b2af20c02cd80",
        "rows:user_latency": "e7afd883d5f76655",
        "variables": "0bf7be6b8046dcb8",
    },
    "region/alone/s00-api": {
        "maps": "74e89781aaab3e72",
        "objective": "c15ed48e7238cdb2",
        "rows:demand": "f7446f99a842c692",
        "rows:linking": "b1006b3a10a52a6e",
        "rows:max_regions": "7b1c729a9e01242e",
        "rows:survival": "e983be6830de1209",
        "rows:survival_cut": "34713971f2ec3703",
        "variables": "12c5b2b878c693a2",
    },
    "region/alone/s03-db": {
        "maps": "62c94b8051a56242",
        "objective": "10b39ba08aaf6fd3",
        "rows:demand": "2234d9ce59869e65",
        "rows:linking": "393dc6556ccda500",
        "rows:max_regions": "ca609edcfa099947",
        "rows:private_capacity": "85d79af750b9bcc8",
        "rows:single_writer": "e10f55f64c098b5d",
        "rows:survival": "7d39b7520c2b5821",
        "rows:survival_cut": "c398dcb1ab06e140",
        "variables": "706dc28515c7d42a",
    },
    "region/alone/s06-web": {
        "maps": "3d1776183f597c6b",
        "objective": "623ba80e0a2b1dd1",
        "rows:demand": "4c0a2f26ea152a40",
        "rows:linking": "b5c934affd146333",
        "rows:max_regions": "3e7197db76ed2ad6",
        "rows:private_capacity": "966380b49bab8803",
        "rows:strategy": "3db4d30b721ca30e",
        "rows:survival": "6e9583e197d6c4d2",
        "variables": "f1ba983995cedac9",
    },
    "region/alone/s09-objects": {
        "maps": "f8b80e88fb0388ad",
        "objective": "3431fa9d5d5266c0",
        "rows:demand": "8f4b96c2b6f35c0b",
        "rows:linking": "6494f65f1046fa38",
        "rows:survival": "ab58516e7e19b3e3",
        "rows:survival_cut": "468a8fc9a4f4eff4",
        "variables": "896b565230dbfadb",
    },
    "region/coupled": {
        "maps": "21cd91e252726ff3",
        "objective": "6bb420abc458c6d6",
        "rows:demand": "bcdd69f22880aae9",
        "rows:dependency_latency": "6220ecf8062ede1e",
        "rows:egress": "a14a6675e8898838",
        "rows:linking": "9334783fa67a29cf",
        "rows:max_regions": "658963f98eaf36d4",
        "rows:private_capacity": "fded8b61abfcdf4f",
        "rows:single_writer": "8bc7f2daf1adb215",
        "rows:strategy": "ff2ebf8213f764f7",
        "rows:survival": "f7310bf2307b2ec4",
        "rows:survival_cut": "af9cd79a2fb7bac5",
        "variables": "c48ca659b6b6214e",
    },
    "region/held": {
        "maps": "ad849d8c3674564f",
        "objective": "9cb0ddec11a0e1ca",
        "rows:demand": "bc214cda8434e4bd",
        "rows:dependency_latency": "7e09b41e09abd64a",
        "rows:egress": "c8c185333f315714",
        "rows:linking": "9f9677d04ec5b162",
        "rows:max_regions": "e750a97b92526484",
        "rows:private_capacity": "e00b7d783df821c7",
        "rows:single_writer": "c035d6c469686d54",
        "rows:survival": "9f9c2db87233c25b",
        "rows:survival_cut": "e242058722c11d97",
        "variables": "c167905f5411f369",
    },
    "provider/alone/s00-api": {
        "maps": "28b437afe5a7b0ce",
        "objective": "3529410f9bfaad6e",
        "rows:demand": "99a72b7790185363",
        "rows:linking": "5d4982e6745a6e2f",
        "rows:max_regions": "39a8141784cb4283",
        "rows:survival": "a472910b5e6d3143",
        "rows:survival_cut": "6d72304ab17acadd",
        "variables": "b76b72957a4b019a",
    },
    "provider/alone/s03-db": {
        "maps": "3bd4cb01d3b1ce4a",
        "objective": "fd1f5d3644706876",
        "rows:demand": "f77fbef30de2dc39",
        "rows:linking": "01f5709e08fa21c7",
        "rows:max_regions": "02605862b7f0d731",
        "rows:private_capacity": "85d79af750b9bcc8",
        "rows:single_writer": "8aff434577af092a",
        "rows:survival": "ff663623124d9616",
        "rows:survival_cut": "99d9a61851f171ac",
        "variables": "53a5a56874d3607b",
    },
    "provider/alone/s06-web": {
        "maps": "7adaebafa32c9659",
        "objective": "35e3acb583110ff1",
        "rows:demand": "ac7953e0f5924963",
        "rows:linking": "348d50009ebebfb3",
        "rows:max_regions": "56786bc3ff8c02ff",
        "rows:private_capacity": "966380b49bab8803",
        "rows:strategy": "3db4d30b721ca30e",
        "rows:survival": "cc48ba229530bcda",
        "variables": "bca7c03d445684d4",
    },
    "provider/alone/s09-objects": {
        "maps": "c7eab91963e9c00b",
        "objective": "6e387a9537950d8f",
        "rows:demand": "c30ec96d5a559add",
        "rows:linking": "9e2c6f96cc2b135c",
        "rows:max_regions": "e19e633c8910da7c",
        "rows:survival": "c9d36292ec2361f3",
        "rows:survival_cut": "8e182666bfe5c5fc",
        "variables": "d8c481572604d13d",
    },
    "provider/coupled": {
        "maps": "21cd91e252726ff3",
        "objective": "6bb420abc458c6d6",
        "rows:demand": "bcdd69f22880aae9",
        "rows:dependency_latency": "85c108a58500875b",
        "rows:egress": "a14a6675e8898838",
        "rows:linking": "9334783fa67a29cf",
        "rows:max_providers": "267757a2429f611a",
        "rows:max_regions": "658963f98eaf36d4",
        "rows:private_capacity": "fded8b61abfcdf4f",
        "rows:single_writer": "8304820e39d99a52",
        "rows:strategy": "ff2ebf8213f764f7",
        "rows:survival": "278edf648710dbbc",
        "rows:survival_cut": "af9cd79a2fb7bac5",
        "variables": "6a5215423c4d01bd",
    },
    "provider/held": {
        "maps": "ad849d8c3674564f",
        "objective": "9cb0ddec11a0e1ca",
        "rows:demand": "bc214cda8434e4bd",
        "rows:dependency_latency": "ea3ebdb9fe84a0c6",
        "rows:egress": "c8c185333f315714",
        "rows:linking": "9f9677d04ec5b162",
        "rows:max_providers": "8a7325351dab3ee3",
        "rows:max_regions": "e750a97b92526484",
        "rows:private_capacity": "e00b7d783df821c7",
        "rows:single_writer": "a178d6c32fb214bb",
        "rows:survival": "259f3f12c00e8ebb",
        "rows:survival_cut": "e242058722c11d97",
        "variables": "5e087d1c66073c6b",
    },
    "zone/alone/s00-api": {
        "maps": "b0adeef1a5b21119",
        "objective": "50b4f8521d63685f",
        "rows:demand": "4e33f74db41e771b",
        "rows:linking": "e238e7c98781fc9b",
        "rows:max_regions": "1eec16a411e01c23",
        "rows:survival": "210f28b883dc279b",
        "variables": "72d949018b043efb",
    },
    "zone/alone/s03-db": {
        "maps": "5fb784cb48c9df04",
        "objective": "128bd5cd475d4131",
        "rows:demand": "494eac476fc476c3",
        "rows:linking": "10d090dd40119719",
        "rows:max_regions": "36d8ad3c739a7fb5",
        "rows:private_capacity": "85d79af750b9bcc8",
        "rows:single_writer": "df88ebd5fb53ce3b",
        "rows:survival": "4412e7b1004e8e15",
        "variables": "3c09e1015d67ed95",
    },
    "zone/alone/s06-web": {
        "maps": "3a3986fef32d13d0",
        "objective": "481ff48f47a5c413",
        "rows:demand": "f3ba969659ee0ad4",
        "rows:linking": "1cf942bd76871c95",
        "rows:max_regions": "e76a34194722819b",
        "rows:private_capacity": "966380b49bab8803",
        "rows:strategy": "3db4d30b721ca30e",
        "rows:survival": "9139cc7f3258b1d7",
        "variables": "4d0db844bbe525b6",
    },
    "zone/alone/s09-objects": {
        "maps": "d4de37f095fd1772",
        "objective": "6057c1bc81aa1186",
        "rows:demand": "1e107bbc12f25d18",
        "rows:linking": "5c044c60639f7410",
        "rows:max_regions": "6d26131911f737aa",
        "rows:survival": "5024c58fcc1ad31d",
        "variables": "7a38d8d3efe0c66e",
    },
    "zone/coupled": {
        "maps": "21cd91e252726ff3",
        "objective": "6bb420abc458c6d6",
        "rows:demand": "bcdd69f22880aae9",
        "rows:dependency_latency": "f20d55555fc1a97b",
        "rows:egress": "a14a6675e8898838",
        "rows:linking": "5ef00e20f2d63403",
        "rows:max_regions": "658963f98eaf36d4",
        "rows:private_capacity": "fded8b61abfcdf4f",
        "rows:single_writer": "ac91e2b06787a15b",
        "rows:strategy": "ff2ebf8213f764f7",
        "rows:survival": "16ab9c1295fc4a3f",
        "variables": "c690b4f95558f153",
    },
    "zone/held": {
        "maps": "ad849d8c3674564f",
        "objective": "9cb0ddec11a0e1ca",
        "rows:demand": "bc214cda8434e4bd",
        "rows:dependency_latency": "3bf0f0cad0c833e1",
        "rows:egress": "c8c185333f315714",
        "rows:linking": "492107d501ec5da6",
        "rows:max_regions": "e750a97b92526484",
        "rows:private_capacity": "e00b7d783df821c7",
        "rows:single_writer": "bd62f699f0bc6a70",
        "rows:survival": "717867480e80e592",
        "variables": "d99e556b4115b5d1",
    },
    "private/alone/s00-api": {
        "maps": "17245fc5ef9f89f3",
        "objective": "b91c68f3b3e952f6",
        "rows:demand": "53921da0fe6c7951",
        "rows:linking": "dfbe42cad87f9914",
        "rows:max_regions": "8f8325739af317c6",
        "rows:private_capacity": "db80fd9764f4c033",
        "rows:survival": "87dd41d7dd31f51e",
        "rows:survival_cut": "d2f49ef244ca4feb",
        "variables": "af891b4cae456d89",
    },
    "private/alone/s03-db": {
        "maps": "22cd5718f25cbda4",
        "objective": "aadaea089c9fa914",
        "rows:demand": "51c80ea58aa5d229",
        "rows:linking": "91fbe22993c3ff24",
        "rows:max_regions": "ca609edcfa099947",
        "rows:private_capacity": "3471cfaee37eaea1",
        "rows:single_writer": "0e05225ec1a9c1b2",
        "rows:survival": "9aaec11b007f88b0",
        "rows:survival_cut": "7f7d7a25bc752783",
        "variables": "12382e139b428c2b",
    },
    "private/alone/s06-web": {
        "maps": "3b9396453fbfba0f",
        "objective": "cb3073d8137558ee",
        "rows:demand": "fd2e296ee1fbe90e",
        "rows:linking": "bbf8fd7abd54f147",
        "rows:max_regions": "3e7197db76ed2ad6",
        "rows:private_capacity": "e7cd2ef57e2dbdbc",
        "rows:strategy": "3db4d30b721ca30e",
        "rows:survival": "66871a2e62f91d16",
        "variables": "d7f0cf3516a3952b",
    },
    "private/alone/s09-objects": {
        "maps": "ae4299264a1c4658",
        "objective": "4b719259165c014d",
        "rows:demand": "391d19ba8ce39ead",
        "rows:linking": "c206d8949c7de653",
        "rows:survival": "5ba8c4cd6b76ced5",
        "rows:survival_cut": "81bb69ac58b834e3",
        "variables": "58796ae035d7a5f4",
    },
    "private/coupled": {
        "maps": "14afdad0a7932b60",
        "objective": "e046aa76cfc957f8",
        "rows:demand": "41fb7f9eabe0cfa5",
        "rows:dependency_latency": "e7a869cbe157de79",
        "rows:egress": "c4f4e383f3d7355b",
        "rows:linking": "290b8040064ba357",
        "rows:max_regions": "837eb7a69d56ba06",
        "rows:private_capacity": "0c64d421bf2e294b",
        "rows:single_writer": "7eb5fabc1cc2d197",
        "rows:strategy": "ff2ebf8213f764f7",
        "rows:survival": "ab251b5e17d3401d",
        "rows:survival_cut": "3ca1b6541a07a860",
        "variables": "6e39fdd98b554e62",
    },
    "private/held": {
        "maps": "99ffaa5904887a8c",
        "objective": "2e529eeda57e6cf4",
        "rows:demand": "47793d7d1eca6f4b",
        "rows:dependency_latency": "5132f684f0b39326",
        "rows:egress": "6c877848b685c632",
        "rows:linking": "d994879197ea0fd0",
        "rows:max_regions": "5dd950e3c61cb587",
        "rows:private_capacity": "3666eee0bbd8cb65",
        "rows:single_writer": "8e8e9cc0f485c52d",
        "rows:survival": "7c88c6b68bc08820",
        "rows:survival_cut": "998f0cde48aeb7ac",
        "variables": "aeca28bd454cf0f8",
    },
    "users/alone/s00-api": {
        "maps": "74e89781aaab3e72",
        "objective": "c15ed48e7238cdb2",
        "rows:demand": "f7446f99a842c692",
        "rows:linking": "b1006b3a10a52a6e",
        "rows:max_regions": "7b1c729a9e01242e",
        "rows:survival": "e983be6830de1209",
        "rows:survival_cut": "34713971f2ec3703",
        "variables": "12c5b2b878c693a2",
    },
    "users/alone/s03-db": {
        "maps": "62c94b8051a56242",
        "objective": "10b39ba08aaf6fd3",
        "rows:demand": "2234d9ce59869e65",
        "rows:linking": "393dc6556ccda500",
        "rows:max_regions": "ca609edcfa099947",
        "rows:private_capacity": "85d79af750b9bcc8",
        "rows:single_writer": "e10f55f64c098b5d",
        "rows:survival": "7d39b7520c2b5821",
        "rows:survival_cut": "c398dcb1ab06e140",
        "variables": "706dc28515c7d42a",
    },
    "users/alone/s06-web": {
        "maps": "3d1776183f597c6b",
        "objective": "623ba80e0a2b1dd1",
        "rows:demand": "4c0a2f26ea152a40",
        "rows:linking": "b5c934affd146333",
        "rows:max_regions": "3e7197db76ed2ad6",
        "rows:private_capacity": "966380b49bab8803",
        "rows:strategy": "3db4d30b721ca30e",
        "rows:survival": "6e9583e197d6c4d2",
        "variables": "f1ba983995cedac9",
    },
    "users/alone/s09-objects": {
        "maps": "f8b80e88fb0388ad",
        "objective": "3431fa9d5d5266c0",
        "rows:demand": "8f4b96c2b6f35c0b",
        "rows:linking": "6494f65f1046fa38",
        "rows:survival": "ab58516e7e19b3e3",
        "rows:survival_cut": "468a8fc9a4f4eff4",
        "variables": "896b565230dbfadb",
    },
    "users/coupled": {
        "maps": "4bc583b48f673926",
        "objective": "e81e32171e016918",
        "rows:demand": "50a7336990e7fae8",
        "rows:dependency_latency": "367609d6409b1f7f",
        "rows:egress": "4ec71059f64f4424",
        "rows:internet": "6ed0556d0b551bf5",
        "rows:linking": "efe3a6db56454da0",
        "rows:max_regions": "20dd5346a55318b7",
        "rows:private_capacity": "fded8b61abfcdf4f",
        "rows:single_writer": "8bc7f2daf1adb215",
        "rows:strategy": "ff2ebf8213f764f7",
        "rows:survival": "bd2bd75d13633f55",
        "rows:survival_cut": "922aab44bb7873fd",
        "rows:user_latency": "33a0e0869b513c1e",
        "rows:user_share": "cecc688f5ddd12a6",
        "variables": "9e37ee2a34af9f67",
    },
    "users/held": {
        "maps": "ad849d8c3674564f",
        "objective": "9cb0ddec11a0e1ca",
        "rows:demand": "bc214cda8434e4bd",
        "rows:dependency_latency": "7e09b41e09abd64a",
        "rows:egress": "c8c185333f315714",
        "rows:linking": "9f9677d04ec5b162",
        "rows:max_regions": "e750a97b92526484",
        "rows:private_capacity": "e00b7d783df821c7",
        "rows:single_writer": "c035d6c469686d54",
        "rows:survival": "9f9c2db87233c25b",
        "rows:survival_cut": "e242058722c11d97",
        "variables": "c167905f5411f369",
    },
    "mix/alone/s00-api": {
        "maps": "17245fc5ef9f89f3",
        "objective": "b91c68f3b3e952f6",
        "rows:demand": "53921da0fe6c7951",
        "rows:linking": "dfbe42cad87f9914",
        "rows:max_regions": "8f8325739af317c6",
        "rows:private_capacity": "d348ed39f8e78501",
        "rows:survival": "87dd41d7dd31f51e",
        "rows:survival_cut": "d2f49ef244ca4feb",
        "variables": "af891b4cae456d89",
    },
    "mix/alone/s03-db": {
        "maps": "22cd5718f25cbda4",
        "objective": "aadaea089c9fa914",
        "rows:demand": "51c80ea58aa5d229",
        "rows:linking": "91fbe22993c3ff24",
        "rows:max_regions": "ca609edcfa099947",
        "rows:private_capacity": "8973d02bb5e24425",
        "rows:single_writer": "0e05225ec1a9c1b2",
        "rows:survival": "9aaec11b007f88b0",
        "rows:survival_cut": "7f7d7a25bc752783",
        "variables": "12382e139b428c2b",
    },
    "mix/alone/s06-web": {
        "maps": "3b9396453fbfba0f",
        "objective": "cb3073d8137558ee",
        "rows:demand": "fd2e296ee1fbe90e",
        "rows:linking": "bbf8fd7abd54f147",
        "rows:max_regions": "3e7197db76ed2ad6",
        "rows:private_capacity": "e7cd2ef57e2dbdbc",
        "rows:strategy": "3db4d30b721ca30e",
        "rows:survival": "66871a2e62f91d16",
        "variables": "d7f0cf3516a3952b",
    },
    "mix/alone/s09-objects": {
        "maps": "ae4299264a1c4658",
        "objective": "4b719259165c014d",
        "rows:demand": "391d19ba8ce39ead",
        "rows:linking": "c206d8949c7de653",
        "rows:survival": "5ba8c4cd6b76ced5",
        "rows:survival_cut": "81bb69ac58b834e3",
        "variables": "58796ae035d7a5f4",
    },
    "mix/coupled": {
        "maps": "502c06a4627c66f1",
        "objective": "793c25a9641fdda9",
        "rows:demand": "6fd99f53bb3666ca",
        "rows:dependency_latency": "30603786f03a396d",
        "rows:egress": "1fd0d8acc4969fe1",
        "rows:internet": "71b2c0b2cb3940e2",
        "rows:linking": "2514d2f109276428",
        "rows:max_providers": "c1dbd686824a923c",
        "rows:max_regions": "9a85b56a17ee3406",
        "rows:private_capacity": "0bd5ea280172508c",
        "rows:single_writer": "7eb5fabc1cc2d197",
        "rows:strategy": "ff2ebf8213f764f7",
        "rows:survival": "5909f20baeb94620",
        "rows:survival_cut": "bd9af800ddc3b2e8",
        "rows:user_latency": "6775b8a698167bf7",
        "rows:user_share": "75f34f0d6a9e0be2",
        "variables": "25e8cfb30e8c5973",
    },
    "mix/held": {
        "maps": "99ffaa5904887a8c",
        "objective": "2e529eeda57e6cf4",
        "rows:demand": "47793d7d1eca6f4b",
        "rows:dependency_latency": "8a504631861cd4ce",
        "rows:egress": "6c877848b685c632",
        "rows:linking": "d994879197ea0fd0",
        "rows:max_providers": "9e90dfa9ca8df0c2",
        "rows:max_regions": "5dd950e3c61cb587",
        "rows:private_capacity": "6f8bf7e6959c5797",
        "rows:single_writer": "8e8e9cc0f485c52d",
        "rows:survival": "7c88c6b68bc08820",
        "rows:survival_cut": "998f0cde48aeb7ac",
        "variables": "fce74a993e509c20",
    },
    "hybrid-dr/elastic": {
        "maps": "5b9e22cecec28545",
        "objective": "49de8b5ce6ed02c4",
        "rows:demand": "ff7706489fcb49a4",
        "rows:dependency_latency": "f4e7ef636069177e",
        "rows:egress": "57e65840338165cc",
        "rows:internet": "fd6326de2f8d631e",
        "rows:linking": "adcc43f29f7a8ebc",
        "rows:max_regions": "087ceb243bd989fb",
        "rows:private_capacity": "7cdeaaa915f96b33",
        "rows:replication": "3b72fd0ed483a258",
        "rows:single_writer": "74b9bddafbf80e0d",
        "rows:survival": "38e5758d4fdb877f",
        "rows:survival_cut": "f1c91d9bee74c3ec",
        "rows:user_latency": "688d058d79334afe",
        "variables": "c1b5ab6302c07c27",
    },
    "mix/group": {
        "maps": "e95c00dd6e435044",
        "objective": "784ea33075dd6174",
        "rows:demand": "e2c59d3fba0eda2d",
        "rows:linking": "68634a74f595a029",
        "rows:max_regions": "dadc701e9d090126",
        "rows:private_capacity": "9637bc78daf310f4",
        "rows:service_floor": "182d29ed48f724d8",
        "rows:survival": "1a3fa0ca32efaff9",
        "rows:survival_cut": "9fac3fd5fff214b7",
        "variables": "5e5e73d6301bee70",
    },
}


def test_every_case_is_pinned() -> None:
    assert set(_now()) == set(PINNED)


@cache
def _now() -> dict[str, dict[str, str]]:
    return {name: digests(built) for name, built in cases()}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_the_builder_builds_the_pinned_model(name: str) -> None:
    assert _now()[name] == PINNED[name]


if (
    __name__ == "__main__"
):  # print the digests of the current builder, to pin a change made on purpose
    sys.stdout.write("PINNED: dict[str, dict[str, str]] = {\n")
    for case, model in cases():
        sys.stdout.write(f"    {case!r}: {digests(model)!r},\n")
    sys.stdout.write("}\n")
