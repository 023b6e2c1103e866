"""``vlogreg inspect``: a model file's parameters, training information and coefficients."""

from __future__ import annotations

import json

from ._common import jsonable, open_model


def add_parser(sub):
    p = sub.add_parser("inspect", help="show a model file: parameters and coefficients",
                       description="Show a model file's parameters, training information "
                       "and coefficient table (with standard errors and p-values when "
                       "it was trained with --inference).")
    p.add_argument("model", metavar="MODEL")
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
    _print_header(args.model, meta)
    print()
    if mf.inference is not None:
        print(mf.summary().to_text(odds_ratios=True))
        return 0
    classes = list(model.classes_[1:] if len(model.classes_) == 2 else model.classes_)
    head = ["coef"] if len(model.classes_) == 2 else [str(c) for c in classes]
    w = max([len("intercept")] + [len(n) for n in names]) + 2
    cw = max([12] + [len(h) + 2 for h in head])
    print(f"{'':{w}s}" + "".join(f"{h:>{cw}s}" for h in head))
    print(f"{'intercept':{w}s}" + "".join(f"{v:>{cw}.6g}" for v in model.intercept_))
    for j, name in enumerate(names):
        print(f"{name:{w}s}" + "".join(f"{v:>{cw}.6g}" for v in model.coef_[:, j]))
    if len(model.classes_) == 2:
        print(f"\n(coefficients of the log-odds of class {classes[0]!s}; train with "
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
    p = meta["params"]
    cls = meta["classes"]
    shown = ", ".join(map(str, cls["values"][:10])) + (", ..." if len(cls["values"]) > 10
                                                       else "")
    print(f"vlogreg model: {path} ({meta['format']} format {meta['format_version']}, "
          f"written by vlogreg {meta['vlogreg_version']})")
    print(f"  classes    {len(cls['values'])}: {shown} ({cls['dtype']})")
    print(f"  features   {meta['n_features']}")
    pen = "none" if p.get("penalty") is None else p["penalty"]
    extra = f", l1_ratio={p['l1_ratio']}" if p.get("l1_ratio") is not None else ""
    cw = f", class_weight={p['class_weight']}" if p.get("class_weight") else ""
    print(f"  params     penalty={pen}, C={p.get('C')}{extra}, solver={p.get('solver')}, "
          f"tol={p.get('tol')}, max_iter={p.get('max_iter')}{cw}")
    fit = meta["fit"]
    status = "converged" if fit["converged"] else "did NOT converge"
    print(f"  fit        {fit['solver']}, {status} in {fit['n_iter']} iterations")
    t = meta["training"] or {}
    m = t.get("metrics") if isinstance(t.get("metrics"), dict) else {}
    if t:
        line = f"  training   {t.get('data', '?')}, {t.get('n_samples', '?')} rows"
        if isinstance(m.get("accuracy"), (int, float)):
            line += f", accuracy {100 * m['accuracy']:.2f} %"
        if isinstance(m.get("log_loss"), (int, float)):
            line += f", log-loss {m['log_loss']:.4f}"
        if isinstance(t.get("time_s"), (int, float)):
            line += f", {t['time_s']:.3f} s"
        print(line)
