// Keeps freshet_testing non-empty before any helper exists.
