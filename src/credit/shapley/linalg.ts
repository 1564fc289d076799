/** Dense linear algebra for small systems (n ≤ a few hundred players). Pure. */

/** Solves A x = b by Gaussian elimination with partial pivoting; A is n×n row-major (copied). */
export function solve(A: readonly Float64Array[], b: ArrayLike<number>): Float64Array {
  const n = A.length;
  const M = A.map((row) => Float64Array.from(row));
  const x = Float64Array.from(b as ArrayLike<number>);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[piv]![c]!)) piv = r;
    if (piv !== c) {
      [M[c], M[piv]] = [M[piv]!, M[c]!];
      const t = x[c]!;
      x[c] = x[piv]!;
      x[piv] = t;
    }
    const d = M[c]![c]!;
    if (Math.abs(d) < 1e-300) throw new RangeError('singular matrix');
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / d;
      if (f === 0) continue;
      const rowR = M[r]!;
      const rowC = M[c]!;
      for (let k = c; k < n; k++) rowR[k] = rowR[k]! - f * rowC[k]!;
      x[r] = x[r]! - f * x[c]!;
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r]!;
    const row = M[r]!;
    for (let k = r + 1; k < n; k++) s -= row[k]! * x[k]!;
    x[r] = s / row[r]!;
  }
  return x;
}

/**
 * Equality-constrained least squares in normal form: minimises φᵀAφ - 2bᵀφ subject to Σφ = total,
 * i.e. φ = A⁻¹(b - ν·1) with ν = (1ᵀA⁻¹b - total) / (1ᵀA⁻¹1). A gets a tiny ridge (1e-10·trace/n)
 * so early, rank-deficient sample matrices still give a finite answer.
 */
export function constrainedSolve(A: readonly Float64Array[], b: ArrayLike<number>, total: number): Float64Array {
  const n = A.length;
  let tr = 0;
  for (let i = 0; i < n; i++) tr += A[i]![i]!;
  const ridge = 1e-10 * (tr / n || 1);
  const R = A.map((row, i) => {
    const r = Float64Array.from(row);
    r[i] = r[i]! + ridge;
    return r;
  });
  const Ainvb = solve(R, b);
  const Ainv1 = solve(R, new Float64Array(n).fill(1));
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    s1 += Ainvb[i]!;
    s2 += Ainv1[i]!;
  }
  const nu = (s1 - total) / s2;
  const phi = new Float64Array(n);
  for (let i = 0; i < n; i++) phi[i] = Ainvb[i]! - nu * Ainv1[i]!;
  return phi;
}
