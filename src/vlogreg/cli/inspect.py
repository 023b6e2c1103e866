"""``vlogreg inspect``: a model file's parameters, training information and coefficients."""

from __future__ import annotations

import argparse
import json
import math

from .._textgrid import WIDTH, fit_list, grid
from ._common import UsageError, jsonable, open_model, safe_text
from ._tables import check_order, is_model_file


def add_parser(sub):
    p = sub.add_parser("inspect", help="show a model file: parameters and coefficients",
                       description="Show a model file's parameters, training information "
                       "and coefficient table (with standard errors and p-values when "
                       "it was trained with --inference).")
    p.add_argument("model", metavar="MODEL")
    # a second file is a mistake that gets its own message (swapped, or a data file)
    p.add_argument("extra", nargs="*", help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="print a JSON object on stdout")
    p.set_defaults(func=run)


def coefficient_rows(model, names):
    """``[{"name", "class", "coef"}]``: the intercept(s), then each feature, per class."""
    classes = model.classes_[1:] if len(model.classes_) == 2 else model.classes_
    rows = []
    for k, label in enumerate(classes):
        rows.append({"name": "intercept", "class": jsonable(label),
                     "coef": float(model.intercept_[k])})
        rows += [{"name": n, "class": jsonable(label), "coef": float(c)}
                 for n, c in zip(names, model.coef_[k])]
    return rows


def run(args):
    import numpy as np

    check_order("inspect", args.model, args.extra[0] if args.extra else None)
    if args.extra:
        other = safe_text(args.extra[0])
        fix = (f"inspect each one: vlogreg inspect {other}" if is_model_file(args.extra[0])
               else f"to score the model on data use vlogreg evaluate "
                    f"{safe_text(args.model)} {other}")
        raise UsageError(f"inspect takes one MODEL file, got {len(args.extra) + 1} files; "
                         f"{fix}")
    mf, _ = open_model(args.model)
    meta, model = mf.metadata, mf.model
    names = meta["feature_names"]
    if args.json:
        out = {k: meta[k] for k in ("format", "format_version", "vlogreg_version", "params",
                                    "n_features", "feature_names", "fit", "training")}
        out["classes"] = meta["classes"]["values"]
        out["coefficients"] = coefficient_rows(model, names)
        inf = mf.inference
        out["inference"] = None if inf is None else _inference_json(mf.summary())
        print(json.dumps(out, indent=1))
        return 0
    # text mode: everything that came from the file is printed through safe_text
    _print_header(args.model, meta)
    print()
    if mf.inference is not None:
        table = mf.summary()
        table.names = np.asarray([safe_text(n) for n in table.names], dtype=object)
        table.note = safe_text(table.note)
        print(table.to_text(odds_ratios=True, width=WIDTH))
        return 0
    classes = [safe_text(c) for c in
               (model.classes_[1:] if len(model.classes_) == 2 else model.classes_)]
    names = [safe_text(n) for n in names]
    head = ["coef"] if len(model.classes_) == 2 else classes
    cells = [[f"{v:.6g}" for v in model.intercept_]] + \
        [[f"{v:.6g}" for v in model.coef_[:, j]] for j in range(len(names))]
    cw = max([12] + [len(h) + 2 for h in head])
    print("\n".join(grid("", ["intercept", *names], head, cells, width=WIDTH, cw=cw,
                          min_label=0)))
    if len(model.classes_) == 2:
        print(f"\n(coefficients of the log-odds of class {classes[0]}; train with "
              f"--inference for standard errors and p-values)")
    return 0


#: the Summary's model statistics, in the JSON output
_STATS = ("log_likelihood", "null_log_likelihood", "pseudo_r2", "lr_stat", "lr_df",
          "lr_pvalue", "aic", "bic", "df_model", "df_resid", "n_obs", "sum_weights")


def _inference_json(s):
    """The stored summary as JSON values: its kind, statistics and rows."""
    cols = ("coef", "std_err", "z", "p_value", "ci_low", "ci_high", "odds_ratio",
            "or_ci_low", "or_ci_high")
    return {"kind": s.kind, "alpha": s.alpha, "note": s.note, "cov_type": s.cov_type,
            "n_groups": s.n_groups,
            **{k: jsonable(getattr(s, k)) for k in _STATS},
            "rows": [{"name": str(s.names[i]),
                      **{a: jsonable(getattr(s, a)[i]) for a in cols}}
                     for i in range(len(s.names))]}


def _print_header(path, meta):
    from .._spec import resolve_penalty

    p = {k: safe_text(v) for k, v in meta["params"].items()}
    cls = meta["classes"]
    shown = fit_list(map(safe_text, cls["values"]),
                     WIDTH - 20 - len(str(len(cls["values"]))) - len(safe_text(cls["dtype"])))
    print(f"vlogreg model: {safe_text(path)} ({meta['format']} format "
          f"{meta['format_version']}, written by vlogreg {safe_text(meta['vlogreg_version'])})")
    print(f"  classes    {len(cls['values'])}: {shown} ({safe_text(cls['dtype'])})")
    print(f"  features   {meta['n_features']}")
    # the penalty the fit used: l1_ratio and C decide unless penalty= was set (old
    # files); decided on the stored values, printed from their escaped text (p)
    raw = meta["params"]
    C = raw.get("C", 1.0)
    pen = resolve_penalty(raw.get("penalty", "l2"), math.inf if C == "inf" else C,
                          raw.get("l1_ratio"))
    pen = "none" if pen is None else pen
    extra = f", l1_ratio={p['l1_ratio']}" if pen == "elasticnet" else ""
    cw = f", class_weight={p['class_weight']}" if raw.get("class_weight") else ""
    print(f"  params     penalty={pen}, C={p.get('C')}{extra}, solver={p.get('solver')}, "
          f"tol={p.get('tol')}, max_iter={p.get('max_iter')}{cw}")
    fit = meta["fit"]
    status = "converged" if fit["converged"] else "did NOT converge"
    print(f"  fit        {safe_text(fit['solver'])}, {status} in {fit['n_iter']} iterations")
    t = meta["training"] or {}
    m = t.get("metrics") if isinstance(t.get("metrics"), dict) else {}
    if t:
        line = (f"  training   {safe_text(t.get('data', '?'))}, "
                f"{safe_text(t.get('n_samples', '?'))} rows")
        if _real(m.get("accuracy")):
            line += f", accuracy {100 * m['accuracy']:.2f} %"
        if _real(m.get("log_loss")):
            line += f", log-loss {m['log_loss']:.4f}"
        if _real(t.get("time_s")):
            line += f", {t['time_s']:.3f} s"
        print(line)


def _real(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)
