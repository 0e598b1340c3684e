//! Policy test cases.
