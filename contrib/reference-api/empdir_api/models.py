# SPDX-License-Identifier: GPL-3.0-or-later
"""The seed's model of the deployed table, plus the version the API needs.

`employees` stays exactly as deployed (the seed's Flask-SQLAlchemy model):

    employees(id varchar(36) PRIMARY KEY, fullname varchar(100) NOT NULL,
              location varchar(100) NOT NULL, job_title varchar(100) NOT NULL, badges text)

It has no version column, so `Employee.version` is a read-only SQL expression
(a column_property): the MD5 of the row's content, computed by PostgreSQL on
every load and the same value the C clients compute
(employee_content_version()). Nothing is stored for it and no schema change is
needed; after a flush that changes the row, SQLAlchemy reloads it."""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import func, literal_column
from sqlalchemy.orm import column_property

from . import rules

db = SQLAlchemy()


def _version_of(id, fullname, location, job_title, badges):  # noqa: A002 (the column's name)
    """md5(id||chr(31)||fullname||chr(31)||location||chr(31)||job_title||chr(31)
    ||coalesce(badges,chr(30))): unit separators between the fields, a record
    separator for a NULL badges column."""
    us = func.chr(literal_column("31"))
    return func.md5(id + us + fullname + us + location + us + job_title + us
                    + func.coalesce(badges, func.chr(literal_column("30"))))


class Employee(db.Model):
    """The seed's Employee model (same table, columns, types and nullability)."""

    __tablename__ = "employees"

    id = db.Column(db.String(36), primary_key=True)
    fullname = db.Column(db.String(100), nullable=False)
    location = db.Column(db.String(100), nullable=False)
    job_title = db.Column(db.String(100), nullable=False)
    badges = db.Column(db.Text)

    version = column_property(_version_of(id, fullname, location, job_title, badges))

    def to_dict(self):
        """The contract's Employee (see record())."""
        return record(self.id, self.fullname, self.location, self.job_title, self.badges, self.version)

    def __repr__(self):
        return f"<Employee {self.id!r}>"


# The columns the API reads, in record()'s order: select(*FIELDS) and
# RETURNING *FIELDS give rows that record(*row) turns into the contract's shape.
FIELDS = (Employee.id, Employee.fullname, Employee.location, Employee.job_title, Employee.badges,
          Employee.version)


def record(id, fullname, location, job_title, badges, version):  # noqa: A002
    """The contract's Employee: badges decoded (a JSON array, or the seed
    form's legacy comma list; NULL is none), the content version included."""
    return {"id": id, "fullname": fullname, "location": location, "job_title": job_title,
            "badges": rules.decode_badges(badges), "version": version}
