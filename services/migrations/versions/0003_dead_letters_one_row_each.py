"""dead letters: one row per dead letter, keyed on its delivery, with its message id

The archive used to key each row on a hash of the message's bytes and headers, so distinct
poison messages that looked alike were stored as one. The key is now the identity of the
dead letter (``delivery_key``, see shared.jobs.dead_letters); the rows already there keep their old
hashes, which are distinct, as their keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.drop_constraint('uq_dead_letters_fingerprint', type_='unique')
        batch_op.alter_column('fingerprint', new_column_name='delivery_key', existing_type=sa.String(length=64), existing_nullable=False)
        batch_op.add_column(sa.Column('message_id', sa.String(length=255), nullable=True))
    # A second batch: on SQLite, a constraint on a column renamed in the same batch is lost.
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_dead_letters_delivery_key'), ['delivery_key'])


def downgrade() -> None:
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_dead_letters_delivery_key'), type_='unique')
        batch_op.drop_column('message_id')
        batch_op.alter_column('delivery_key', new_column_name='fingerprint', existing_type=sa.String(length=64), existing_nullable=False)
    with op.batch_alter_table('dead_letters', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_dead_letters_fingerprint'), ['fingerprint'])
