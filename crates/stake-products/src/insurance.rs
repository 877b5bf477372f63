//! insurance
