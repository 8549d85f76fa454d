#!/usr/bin/env python3
"""
A PKCS#11 client of its own (ctypes straight on the module, no pkcs11js, nothing of qpki), for
what the tests must see on the token without trusting our code:

- `attrs`: the attributes of the private and public key objects with a label, each read in its
  own C_GetAttributeValue call so an attribute the token refuses is reported as refused;
- `sign`: C_Sign with CKM_ML_DSA and a chosen CK_SIGN_ADDITIONAL_CONTEXT (hedge variant and
  context string), or with no parameter at all. pkcs11js cannot pass a structure holding a
  pointer, and a context signature is exactly what the tests need to show does NOT verify as a
  certificate signature.

Request on stdin (JSON): {lib, token, pin, label, ops: [{op: "attrs"} | {op: "sign", data: hex,
params: null | {hedge: 0|1|2, context: hex}}]}. Answer on stdout (JSON), one result per op.
"""
import ctypes as C
import json
import sys

CK_ULONG = C.c_ulong
CKR_OK = 0
CKF_SERIAL_SESSION = 0x4
CKU_USER = 1
CKO_PUBLIC_KEY, CKO_PRIVATE_KEY = 2, 3
CKA_CLASS, CKA_LABEL = 0x0, 0x3
CKM_ML_DSA = 0x1D
RV_NAMES = {0x11: 'CKR_ATTRIBUTE_SENSITIVE', 0x12: 'CKR_ATTRIBUTE_TYPE_INVALID', 0x7: 'CKR_ARGUMENTS_BAD', 0x70: 'CKR_MECHANISM_INVALID', 0x71: 'CKR_MECHANISM_PARAM_INVALID'}

ULONG_ATTRS = {'CKA_CLASS': 0x0, 'CKA_KEY_TYPE': 0x100, 'CKA_PARAMETER_SET': 0x61D}
BOOL_ATTRS = {
    'CKA_TOKEN': 0x1, 'CKA_PRIVATE': 0x2, 'CKA_SENSITIVE': 0x103, 'CKA_EXTRACTABLE': 0x162, 'CKA_LOCAL': 0x163,
    'CKA_NEVER_EXTRACTABLE': 0x164, 'CKA_ALWAYS_SENSITIVE': 0x165, 'CKA_SIGN': 0x108, 'CKA_VERIFY': 0x10A,
    'CKA_DECRYPT': 0x105, 'CKA_UNWRAP': 0x107, 'CKA_DERIVE': 0x10C,
}
BYTES_ATTRS = {'CKA_VALUE': 0x11, 'CKA_SEED': 0x637}


class Attribute(C.Structure):
    _fields_ = [('type', CK_ULONG), ('pValue', C.c_void_p), ('ulValueLen', CK_ULONG)]


class Mechanism(C.Structure):
    _fields_ = [('mechanism', CK_ULONG), ('pParameter', C.c_void_p), ('ulParameterLen', CK_ULONG)]


class SignAdditionalContext(C.Structure):
    _fields_ = [('hedgeVariant', CK_ULONG), ('pContext', C.c_void_p), ('ulContextLen', CK_ULONG)]


def main():
    req = json.load(sys.stdin)
    lib = C.CDLL(req['lib'])

    def call(name, *args):
        rv = getattr(lib, name)(*args)
        if rv != CKR_OK:
            raise RuntimeError(f'{name}: {RV_NAMES.get(rv, hex(rv))}')

    call('C_Initialize', None)
    try:
        n = CK_ULONG(0)
        call('C_GetSlotList', C.c_ubyte(1), None, C.byref(n))
        slots = (CK_ULONG * n.value)()
        call('C_GetSlotList', C.c_ubyte(1), slots, C.byref(n))
        slot = None
        for s in slots[: n.value]:
            info = C.create_string_buffer(512)  # CK_TOKEN_INFO starts with label[32], blank padded
            call('C_GetTokenInfo', CK_ULONG(s), info)
            if info.raw[:32].decode().rstrip() == req['token']:
                slot = s
        if slot is None:
            raise RuntimeError(f"no token labelled {req['token']}")
        h = CK_ULONG(0)
        call('C_OpenSession', CK_ULONG(slot), CK_ULONG(CKF_SERIAL_SESSION), None, None, C.byref(h))
        pin = req['pin'].encode()
        call('C_Login', h, CK_ULONG(CKU_USER), C.c_char_p(pin), CK_ULONG(len(pin)))

        def find(cls):
            label = req['label'].encode()
            cls_v = CK_ULONG(cls)
            lab = C.create_string_buffer(label, len(label))
            tmpl = (Attribute * 2)(Attribute(CKA_CLASS, C.cast(C.byref(cls_v), C.c_void_p), C.sizeof(cls_v)), Attribute(CKA_LABEL, C.cast(lab, C.c_void_p), len(label)))
            call('C_FindObjectsInit', h, tmpl, CK_ULONG(2))
            objs = (CK_ULONG * 4)()
            got = CK_ULONG(0)
            call('C_FindObjects', h, objs, CK_ULONG(4), C.byref(got))
            call('C_FindObjectsFinal', h)
            if got.value != 1:
                raise RuntimeError(f"{got.value} objects of class {cls} labelled {req['label']}")
            return objs[0]

        def read(obj):
            out = {}
            for name, t in {**ULONG_ATTRS, **BOOL_ATTRS, **BYTES_ATTRS}.items():
                a = Attribute(t, None, 0)
                rv = lib.C_GetAttributeValue(h, CK_ULONG(obj), C.byref(a), CK_ULONG(1))
                if rv != CKR_OK:
                    out[name] = {'refused': RV_NAMES.get(rv, hex(rv))}
                    continue
                buf = C.create_string_buffer(a.ulValueLen)
                a.pValue = C.cast(buf, C.c_void_p)
                rv = lib.C_GetAttributeValue(h, CK_ULONG(obj), C.byref(a), CK_ULONG(1))
                if rv != CKR_OK:
                    out[name] = {'refused': RV_NAMES.get(rv, hex(rv))}
                    continue
                raw = buf.raw[: a.ulValueLen]
                if name in ULONG_ATTRS:
                    out[name] = int.from_bytes(raw, sys.byteorder)
                elif name in BOOL_ATTRS:
                    out[name] = raw != b'\0'
                else:
                    out[name] = {'length': len(raw)}
            return out

        results = []
        for op in req['ops']:
            if op['op'] == 'attrs':
                results.append({'private': read(find(CKO_PRIVATE_KEY)), 'public': read(find(CKO_PUBLIC_KEY))})
                continue
            key = find(CKO_PRIVATE_KEY)
            keep = []  # the parameter and its context must outlive C_SignInit
            if op['params'] is None:
                mech = Mechanism(CKM_ML_DSA, None, 0)
            else:
                ctx = bytes.fromhex(op['params']['context'])
                cbuf = C.create_string_buffer(ctx, len(ctx)) if ctx else None
                p = SignAdditionalContext(op['params']['hedge'], C.cast(cbuf, C.c_void_p) if cbuf else None, len(ctx))
                keep += [cbuf, p]
                mech = Mechanism(CKM_ML_DSA, C.cast(C.byref(p), C.c_void_p), C.sizeof(p))
            data = bytes.fromhex(op['data'])
            try:
                call('C_SignInit', h, C.byref(mech), CK_ULONG(key))
                size = CK_ULONG(0)
                call('C_Sign', h, data, CK_ULONG(len(data)), None, C.byref(size))
                sig = C.create_string_buffer(size.value)
                call('C_Sign', h, data, CK_ULONG(len(data)), sig, C.byref(size))
                results.append({'signature': sig.raw[: size.value].hex()})
            except RuntimeError as e:
                results.append({'refused': str(e)})
        lib.C_Logout(h)
        lib.C_CloseSession(h)
        print(json.dumps(results))
    finally:
        lib.C_Finalize(None)


main()
